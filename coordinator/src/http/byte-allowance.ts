// Bytes a client address may store per hour (blob uploads): a token bucket of bytes, reserved up-front for an upload
// and settled once its size is known, so concurrent uploads from one address cannot each spend the same allowance.

export class ByteAllowance {
  private readonly buckets = new Map<string, { bytes: number; at: number }>();

  /** `perHour` bytes refill over an hour, up to `perHour` held. */
  constructor(readonly perHour: number) {}

  private bucket(key: string, now: number) {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { bytes: this.perHour, at: now };
      this.buckets.set(key, bucket);
    }
    bucket.bytes = Math.min(this.perHour, bucket.bytes + ((now - bucket.at) / 3_600_000) * this.perHour);
    bucket.at = now;
    if (bucket.bytes >= this.perHour) this.buckets.delete(key); // a full bucket is the default: nothing to remember
    return bucket;
  }

  /** Takes everything `key` may spend now; hand back what was not used with `settle`. */
  reserve(key: string, now: number): number {
    const bucket = this.bucket(key, now);
    const reserved = Math.floor(bucket.bytes);
    bucket.bytes -= reserved;
    this.buckets.set(key, bucket);
    return reserved;
  }

  /** Returns the unused part of a reservation. */
  settle(key: string, reserved: number, used: number, now: number): void {
    const bucket = this.bucket(key, now);
    bucket.bytes = Math.min(this.perHour, bucket.bytes + Math.max(0, reserved - used));
    this.buckets.set(key, bucket);
  }

  /** Milliseconds until `key` may spend `bytes` (capped at an hour: a bucket never holds more than perHour). */
  waitMs(key: string, bytes: number, now: number): number {
    const have = this.bucket(key, now).bytes;
    const need = Math.min(this.perHour, bytes) - have;
    return need <= 0 ? 0 : Math.ceil((need / this.perHour) * 3_600_000);
  }
}
