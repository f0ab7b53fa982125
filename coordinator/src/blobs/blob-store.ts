// Content-addressed blobs on disk (models, chunk attachments): named `sha256:<hex>` after their bytes, written once,
// deduplicated, streamed in and out so a blob is never held whole in memory.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, type ReadStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

export const BLOB_NAME = /^sha256:[0-9a-f]{64}$/;

export class BlobTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`blob is larger than the limit of ${limit} bytes`);
  }
}

export class BlobHashMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`the body hashes to ${actual}, not ${expected}`);
  }
}

export interface BlobInfo {
  name: string;
  size: number;
}

export class BlobStore {
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    mkdirSync(join(dir, 'tmp'), { recursive: true });
  }

  /**
   * Streams `body` to disk while hashing it. With `expected`, the bytes must hash to that name. Returns the blob's
   * name, size and whether it was new. Throws BlobTooLargeError (carrying the limit that was passed) or BlobHashMismatchError (nothing is kept then).
   */
  async put(
    body: ReadableStream<Uint8Array> | Readable | null,
    expected?: string,
    /** A tighter limit for this upload (what the uploader may still store); never above maxBytes. */
    limitBytes = this.maxBytes,
  ): Promise<BlobInfo & { created: boolean }> {
    const tmp = join(this.dir, 'tmp', randomBytes(12).toString('hex'));
    const hash = createHash('sha256');
    let size = 0;
    const limit = Math.min(this.maxBytes, limitBytes);
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > limit) return done(new BlobTooLargeError(limit));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const source = body === null ? Readable.from([]) : body instanceof Readable ? body : Readable.fromWeb(body as never);
    try {
      await pipeline(source, meter, createWriteStream(tmp));
      const name = `sha256:${hash.digest('hex')}`;
      if (expected && expected !== name) throw new BlobHashMismatchError(expected, name);
      const existing = await this.stat(name);
      if (existing) {
        await rm(tmp, { force: true });
        return { ...existing, created: false };
      }
      mkdirSync(this.folder(name), { recursive: true });
      await rename(tmp, this.path(name));
      return { name, size, created: true };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async stat(name: string): Promise<BlobInfo | undefined> {
    if (!BLOB_NAME.test(name)) return undefined;
    try {
      const info = await stat(this.path(name));
      return { name, size: info.size };
    } catch {
      return undefined;
    }
  }

  open(name: string): ReadStream {
    return createReadStream(this.path(name));
  }

  path(name: string): string {
    return join(this.folder(name), name.slice(7));
  }

  private folder(name: string): string {
    return join(this.dir, name.slice(7, 9));
  }
}
