// Chunk workspaces as the contributor loop sees them: a fresh directory per chunk, mounted by the runtime as `/work`,
// read for the chunk's `/work/out/` files and deleted when the chunk ends, whatever the outcome. Hosts bring the
// directories (the tab: OPFS, site/contribute/workspace.ts); the files a chunk wrote become hashed attachments here.
import type { OutputFile, WorkspaceHandle } from '../wasm-runtimes/runtime.js';

/** A chunk's attachment, hashed and ready to upload. */
export interface AttachmentData {
  name: string;
  /** `sha256:<hex>`, the blob name. */
  sha256: string;
  size: number;
  bytes: Uint8Array;
}

/** What the contributor loop needs from workspaces; tests pass none (the runtime then returns file bytes itself). */
export interface Workspaces {
  /** A fresh, empty directory for the chunk of `leaseId`, or undefined when the host has none to give. */
  create(leaseId: string): Promise<WorkspaceHandle | undefined>;
  /** Reads `files` (relative to `out/`) from the chunk's directory. */
  read(leaseId: string, files: OutputFile[]): Promise<Uint8Array[]>;
  /** Deletes the chunk's directory (never throws). */
  remove(leaseId: string): Promise<void>;
}

/** `sha256:<hex>` of some bytes. */
export async function blobName(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Hashes the files a chunk wrote. */
export async function toAttachments(files: OutputFile[], bytes: Uint8Array[]): Promise<AttachmentData[]> {
  return Promise.all(files.map(async (file, i) => ({ name: file.name, size: bytes[i].byteLength, sha256: await blobName(bytes[i]), bytes: bytes[i] })));
}
