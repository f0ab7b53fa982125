// Caps on long-lived response streams (SSE): each open stream holds a socket, a store poll and change watchers, so
// one address must not hold hundreds of them and the whole coordinator holds a bounded number.

export interface StreamSlotLimits {
  /** Streams one client address may hold open at once. */
  perAddress: number;
  /** Streams the coordinator holds open at once, from everyone. */
  total: number;
}

/** Counts open streams per address. `acquire` hands back the release function, or undefined when full. */
export class StreamSlots {
  private readonly open = new Map<string, number>();
  private all = 0;

  constructor(readonly limits: StreamSlotLimits) {}

  /** Takes a slot for `address`; the returned function gives it back (calling it twice is harmless). */
  acquire(address: string): (() => void) | undefined {
    const mine = this.open.get(address) ?? 0;
    if (mine >= this.limits.perAddress || this.all >= this.limits.total) return undefined;
    this.open.set(address, mine + 1);
    this.all++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.all--;
      const left = (this.open.get(address) ?? 1) - 1;
      if (left > 0) this.open.set(address, left);
      else this.open.delete(address);
    };
  }

  /** Streams open now, for one address or in all. */
  count(address?: string): number {
    return address === undefined ? this.all : (this.open.get(address) ?? 0);
  }
}
