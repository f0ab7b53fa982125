// Disposable chunk workspaces in the origin-private file system (OPFS). Each chunk gets a fresh directory, mounted
// by the runtime as `/work`; the page reads the chunk's `/work/out/` files from it and deletes it when the chunk
// ends, whatever the outcome. Directories are grouped per tab, and each tab holds a Web Lock on its group, so the
// sweep at page start deletes what crashed or closed tabs left behind without touching another open tab's chunks. (The loop's side of it: contributor-core/workspace.ts.)
import type { Workspaces } from '../../contributor-core/workspace.js';
import type { OutputFile } from '../../wasm-runtimes/runtime.js';

const ROOT = 'idle-sense-work';
const LOCK_PREFIX = 'idle-sense-workspace-';

/**
 * OPFS workspaces for this tab. `open()` claims a tab directory and sweeps stale ones; undefined without OPFS.
 * @example
 * const workspaces = await OpfsWorkspaces.open();
 * const dir = await workspaces?.create(lease.leaseId);
 */
export class OpfsWorkspaces implements Workspaces {
  private constructor(
    private readonly tab: FileSystemDirectoryHandle,
    readonly tabName: string,
  ) {}

  static async open(): Promise<OpfsWorkspaces | undefined> {
    try {
      const root = await (await navigator.storage.getDirectory()).getDirectoryHandle(ROOT, { create: true });
      const tabName = `tab-${crypto.randomUUID()}`;
      await holdLock(LOCK_PREFIX + tabName);
      await sweep(root);
      return new OpfsWorkspaces(await root.getDirectoryHandle(tabName, { create: true }), tabName);
    } catch {
      return undefined;
    }
  }

  async create(leaseId: string): Promise<FileSystemDirectoryHandle | undefined> {
    try {
      await this.remove(leaseId); // a leftover of the same lease (a retried chunk) must not leak into it
      return await this.tab.getDirectoryHandle(safeName(leaseId), { create: true });
    } catch {
      return undefined;
    }
  }

  async read(leaseId: string, files: OutputFile[]): Promise<Uint8Array[]> {
    const out = await (await this.tab.getDirectoryHandle(safeName(leaseId))).getDirectoryHandle('out');
    return Promise.all(
      files.map(async (file) => {
        const parts = file.name.split('/');
        let dir = out;
        for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part);
        const blob = await (await dir.getFileHandle(parts[parts.length - 1])).getFile();
        return new Uint8Array(await blob.arrayBuffer());
      }),
    );
  }

  async remove(leaseId: string): Promise<void> {
    // A just-terminated worker may still hold a file for a moment: try a few times.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.tab.removeEntry(safeName(leaseId), { recursive: true });
        return;
      } catch (err) {
        if ((err as DOMException)?.name === 'NotFoundError') return;
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      }
    }
  }
}

function safeName(leaseId: string): string {
  return 'chunk-' + leaseId.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Holds a Web Lock for the life of the page (released by the browser when the tab goes away). */
function holdLock(name: string): Promise<void> {
  if (!navigator.locks) return Promise.resolve();
  return new Promise((granted) => {
    void navigator.locks.request(name, () => {
      granted();
      return new Promise<void>(() => {}); // never released while the page lives
    });
  });
}

/** Deletes tab directories whose tab is gone (its lock no longer held), and anything else left at the top level. */
async function sweep(root: FileSystemDirectoryHandle): Promise<void> {
  const held = new Set((await navigator.locks?.query())?.held?.map((lock) => lock.name) ?? []);
  const names: string[] = [];
  for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
  for (const name of names) {
    if (held.has(LOCK_PREFIX + name)) continue;
    await root.removeEntry(name, { recursive: true }).catch(() => undefined);
  }
}
