// The contributor side of the coordinator protocol (`/api/contributors/...`): register, lease, heartbeat, report,
// release, upload attachments. Transport and base URL are injected, so the tab (same origin) and the runner
// (`http://host:8080`) use the same client. Holds the credentials; on 401 (the coordinator forgot us) it registers
// again and retries the call once.
import type {
  CheckpointResponse,
  ContributorCapabilities,
  HeartbeatResponse,
  JobSpec,
  LeaseRef,
  LeaseResponse,
  ReleaseResponse,
  RegisterRequest,
  RegisterResponse,
  ReportResponse,
  ResultReport,
} from '../protocol/index.js';
import { ApiError, errorText, requestJson, type FetchLike, type FetchResponse } from './api.js';
import type { IdentityStore } from './identity.js';
import { blobName } from './workspace.js';

/** LeaseRequest.finishedLeases' bound (the protocol module is not bundled into the page). */
const MAX_FINISHED_LEASES = 1024;

/** What the contributor loop needs from the coordinator; the fake in tests implements the HTTP side instead. */
export interface ContributorApi {
  /** `haveSpecs`: ids of jobs whose spec the caller holds; the answer leaves them out of `jobs`. */
  /** `loadedJobs`: the job each idle thread has loaded, so the coordinator can prefer them (job affinity). */
  /** `finishedLeases`: leases whose results are on their way; they hold no thread (LeaseRequest.finishedLeases). */
  lease(max: number, haveSpecs?: string[], loadedJobs?: string[], finishedLeases?: string[]): Promise<LeaseResponse>;
  /** One job's spec, for a lease whose spec the caller does not hold. */
  jobSpec(jobId: string): Promise<JobSpec>;
  heartbeat(leases: LeaseRef[]): Promise<HeartbeatResponse>;
  report(results: ResultReport[]): Promise<ReportResponse>;
  /** Gives a running lease back at once (the tab paused long, or stopped a chunk that would not pause). */
  release(lease: LeaseRef): Promise<ReleaseResponse>;
  /** Stores a chunk attachment as a content-addressed blob (`PUT /api/blobs/sha256:<hex>`); idempotent. */
  uploadBlob(name: string, bytes: Uint8Array): Promise<void>;
  /** A blob's bytes (`GET /api/blobs/sha256:<hex>`), checked against its name: a lease's checkpoint files. */
  downloadBlob?(name: string): Promise<Uint8Array>;
  /** Replaces the checkpoint of a running lease's chunk with `files` (each uploaded as a blob first). */
  saveCheckpoint?(lease: LeaseRef, files: { name: string; bytes: Uint8Array }[]): Promise<CheckpointResponse>;
}

export interface ContributorClientOptions {
  /** The transport: `(url, init) => fetch(url, init)` in a browser or in Node; a fake coordinator in tests. */
  fetch: FetchLike;
  /** Where the credentials are kept between sessions. */
  identity: IdentityStore;
  /** The coordinator's origin, e.g. `http://host:8080` (default `''`: the page's own origin). */
  baseUrl?: string;
  /** A description of the host sent at registration (the tab: its user agent), cut to 500 characters. */
  agent?: string;
  /**
   * What this contributor offers, sent with every lease request so that jobs with `requires` reach only hosts that
   * meet them (default: none sent, which the coordinator reads as a tab offering Python and ONNX).
   */
  capabilities?: ContributorCapabilities;
}

/**
 * Example (a Node host):
 * ```ts
 * const api = new ContributorClient({ fetch: (url, init) => fetch(url, init), identity, baseUrl: 'http://host:8080' });
 * ```
 */
export class ContributorClient implements ContributorApi {
  private credentials?: Promise<RegisterResponse>;
  private readonly fetchFn: FetchLike;
  private readonly identity: IdentityStore;
  private readonly agent?: string;
  private readonly capabilities?: ContributorCapabilities;
  private readonly runtimes: RegisterRequest['runtimes'];

  constructor(options: ContributorClientOptions) {
    const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    this.fetchFn = (path, init) => options.fetch(baseUrl + path, init);
    this.identity = options.identity;
    this.agent = options.agent;
    this.capabilities = options.capabilities;
    this.runtimes = options.capabilities?.runtimes ?? ['python', 'onnx'];
  }

  lease(max: number, haveSpecs: string[] = [], loadedJobs: string[] = [], finishedLeases: string[] = []): Promise<LeaseResponse> {
    return this.call<LeaseResponse>('leases', {
      max,
      runtimes: this.runtimes,
      ...(this.capabilities ? { capabilities: this.capabilities } : {}),
      ...(haveSpecs.length ? { haveSpecs } : {}),
      ...(loadedJobs.length ? { loadedJobs } : {}),
      ...(loadedJobs.length && finishedLeases.length ? { finishedLeases: finishedLeases.slice(-MAX_FINISHED_LEASES) } : {}),
    });
  }

  jobSpec(jobId: string): Promise<JobSpec> {
    return this.call<JobSpec>(`jobs/${encodeURIComponent(jobId)}`);
  }

  heartbeat(leases: LeaseRef[]): Promise<HeartbeatResponse> {
    return this.call<HeartbeatResponse>('heartbeat', { leases });
  }

  report(results: ResultReport[]): Promise<ReportResponse> {
    return this.call<ReportResponse>('results', { results });
  }

  release({ leaseId, leaseToken }: LeaseRef): Promise<ReleaseResponse> {
    return this.call<ReleaseResponse>(`leases/${encodeURIComponent(leaseId)}/release`, { leaseToken });
  }

  async uploadBlob(name: string, bytes: Uint8Array): Promise<void> {
    let response: FetchResponse;
    try {
      response = await this.fetchFn(`/api/blobs/${encodeURIComponent(name)}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: bytes as Uint8Array<ArrayBuffer>,
      });
    } catch (error) {
      throw new ApiError(0, 'NETWORK', `could not reach the coordinator (${errorText(error)})`);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      let message = `uploading ${name} failed: HTTP ${response.status}`;
      try {
        message = (JSON.parse(text) as { error: { message: string } }).error.message;
      } catch {
        // keep the generic message
      }
      throw new ApiError(response.status, 'BLOB_UPLOAD', message);
    }
  }

  async downloadBlob(name: string): Promise<Uint8Array> {
    let response: FetchResponse;
    try {
      response = await this.fetchFn(`/api/blobs/${encodeURIComponent(name)}`, { method: 'GET' });
    } catch (error) {
      throw new ApiError(0, 'NETWORK', `could not reach the coordinator (${errorText(error)})`);
    }
    if (!response.ok) throw new ApiError(response.status, 'BLOB_DOWNLOAD', `downloading ${name} failed: HTTP ${response.status}`);
    if (!response.arrayBuffer) throw new ApiError(0, 'BLOB_DOWNLOAD', 'this transport cannot read bytes');
    const bytes = new Uint8Array(await response.arrayBuffer());
    // Content-addressed: bytes that do not hash to their name are not the checkpoint that was saved.
    if ((await blobName(bytes)) !== name) throw new ApiError(0, 'BLOB_DOWNLOAD', `${name} arrived damaged (its bytes hash to another name)`);
    return bytes;
  }

  async saveCheckpoint({ leaseId, leaseToken }: LeaseRef, files: { name: string; bytes: Uint8Array }[]): Promise<CheckpointResponse> {
    const named = await Promise.all(files.map(async (file) => ({ name: file.name, blob: await blobName(file.bytes), size: file.bytes.byteLength, bytes: file.bytes })));
    for (const file of named) await this.uploadBlob(file.blob, file.bytes);
    return this.call<CheckpointResponse>(`leases/${encodeURIComponent(leaseId)}/checkpoint`, {
      leaseToken,
      files: named.map(({ name, blob, size }) => ({ name, blob, size })),
    }, 'PUT');
  }

  /** The current contributor id, once registered or loaded (for display). */
  async contributorId(): Promise<string> {
    return (await this.currentCredentials()).contributorId;
  }

  /** POSTs (or `method`s) `body` to the contributor's `action`, or GETs it when there is no body. */
  private async call<T>(action: string, body?: unknown, method?: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const pending = this.currentCredentials();
      const { contributorId, token } = await pending;
      try {
        return await requestJson<T>(this.fetchFn, method ?? (body === undefined ? 'GET' : 'POST'), `/api/contributors/${encodeURIComponent(contributorId)}/${action}`, body, {
          Authorization: `Bearer ${token}`,
        });
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 401 || attempt > 0) throw error;
        // Concurrent calls may all see the 401; only the first one drops the credentials, the others reuse the new ones.
        if (this.credentials === pending) {
          this.credentials = undefined;
          await this.identity.clear();
        }
      }
    }
  }

  private currentCredentials(): Promise<RegisterResponse> {
    if (!this.credentials) {
      const loading = this.loadOrRegister();
      this.credentials = loading;
      // A failed registration (coordinator down) must not stick: the next call tries again.
      loading.catch(() => {
        if (this.credentials === loading) this.credentials = undefined;
      });
    }
    return this.credentials;
  }

  private async loadOrRegister(): Promise<RegisterResponse> {
    const saved = await this.identity.load();
    if (saved) return saved;
    const request: RegisterRequest = { runtimes: this.runtimes, ...(this.agent ? { agent: this.agent.slice(0, 500) } : {}) };
    const credentials = await requestJson<RegisterResponse>(this.fetchFn, 'POST', '/api/contributors', request);
    await this.identity.save(credentials);
    return credentials;
  }
}
