// Model bytes for the ONNX runtime: fetched from the coordinator's blob store once per browser, kept in Cache Storage
// by hash, and checked against the hash (SHA-256) every time before ONNX Runtime sees them.
// Several workers of one tab asking for the same model at once download it once (a Web Lock per model).

/** Where verified model bytes are kept between chunks and page loads. */
export interface ModelCache {
  get(name: string): Promise<Uint8Array | undefined>;
  put(name: string, bytes: Uint8Array): Promise<void>;
  delete(name: string): Promise<void>;
}

/** `sha256:<hex>` of `bytes`, the name the coordinator's blob store gives them. */
export async function blobName(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return `sha256:${Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Cache Storage (browsers, workers included): survives reloads; one entry per model under a synthetic URL. */
export class CacheStorageModelCache implements ModelCache {
  /**
   * @param storage the CacheStorage to use (default: the global `caches`); a locked-down worker passes the one it
   *   captured before lockdown, so the runtime keeps its cache while chunks' code cannot reach it.
   */
  constructor(
    private readonly cacheName = 'idle-sense-models-v1',
    private readonly storage: CacheStorage = caches,
  ) {}

  private key(name: string): string {
    return new URL(`/idle-sense-models/${name}`, (globalThis as { location?: { href: string } }).location?.href ?? 'http://localhost/').href;
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    const response = await (await this.storage.open(this.cacheName)).match(this.key(name));
    return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.byteLength) };
    await (await this.storage.open(this.cacheName)).put(this.key(name), new Response(bytes as Uint8Array<ArrayBuffer>, { headers }));
  }

  async delete(name: string): Promise<void> {
    await (await this.storage.open(this.cacheName)).delete(this.key(name));
  }
}

/** In memory, for one worker's life: Node (tests, benches) and browsers without Cache Storage. */
export class MemoryModelCache implements ModelCache {
  private readonly models = new Map<string, Uint8Array>();
  async get(name: string) {
    return this.models.get(name);
  }
  async put(name: string, bytes: Uint8Array) {
    this.models.set(name, bytes);
  }
  async delete(name: string) {
    this.models.delete(name);
  }
}

export function defaultModelCache(): ModelCache {
  return typeof caches !== 'undefined' ? new CacheStorageModelCache() : new MemoryModelCache();
}

/** A model that could not be obtained intact; the chunk is retried (elsewhere), the job does not fail. */
export class ModelUnavailableError extends Error {}

type LockManager = { request<T>(name: string, callback: () => Promise<T>): Promise<T> };

/**
 * @example
 * const models = new ModelLoader(defaultModelCache(), '/api/blobs/');
 * const bytes = await models.load('sha256:…'); // cached, verified bytes
 */
export class ModelLoader {
  constructor(
    private readonly cache: ModelCache,
    private readonly blobBaseURL: string,
    private readonly fetchFn: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  /** Verified bytes of model `name`: from the cache, else downloaded (once per browser), checked and cached. */
  async load(name: string): Promise<Uint8Array> {
    const cached = await this.cached(name);
    if (cached) return cached;
    const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    const download = async () => (await this.cached(name)) ?? this.download(name);
    return locks ? locks.request(`idle-sense-model:${name}`, download) : download();
  }

  /** Puts bytes the caller already has into the cache, after checking they are `name`'s. */
  async add(name: string, bytes: Uint8Array): Promise<void> {
    const actual = await blobName(bytes);
    if (actual !== name) throw new ModelUnavailableError(`the bytes hash to ${actual}, not ${name}`);
    await this.cache.put(name, bytes);
  }

  private async cached(name: string): Promise<Uint8Array | undefined> {
    const bytes = await this.cache.get(name).catch(() => undefined);
    if (!bytes) return undefined;
    if ((await blobName(bytes)) === name) return bytes;
    await this.cache.delete(name).catch(() => undefined); // damaged on disk: fetch it again
    return undefined;
  }

  private async download(name: string): Promise<Uint8Array> {
    const base = new URL(this.blobBaseURL, (globalThis as { location?: { href: string } }).location?.href).href;
    let response: Response;
    try {
      response = await this.fetchFn(base + name);
    } catch (err) {
      throw new ModelUnavailableError(`could not download model ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!response.ok) throw new ModelUnavailableError(`could not download model ${name}: HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const actual = await blobName(bytes);
    if (actual !== name) throw new ModelUnavailableError(`model ${name} arrived damaged: its bytes hash to ${actual}`);
    await this.cache.put(name, bytes).catch(() => undefined); // a full disk only costs a later download
    return bytes;
  }
}
