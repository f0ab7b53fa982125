// Per-chunk workspaces on the runner's disk: one fresh folder per chunk (mounted as the sandbox's /work), laid out
// by the native chunk contract before the chunk starts, read back (output.json, out/) after it ends, then removed.
// Nothing here runs chunk code; the sandboxes are in bwrap.ts and container.ts.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readdir, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';

/** Every workspace folder's name starts with this, so a sweep never touches anything else in the root. */
export const WORKSPACE_PREFIX = 'idle-sense-chunk-';

/** Names the contract reserves for itself; job.files may not use them. */
const RESERVED_NAMES = new Set(['input.json', 'output.json', 'main.py']);
const RESERVED_DIRS = ['out', 'checkpoint'];

/**
 * Creates `root` if needed and makes it traversable by everyone but listable by its owner only (it adds mode 0711):
 * a runner started as root runs bubblewrap as an unprivileged uid, which must reach its own folder by path. (Every
 * folder above `root` must be traversable too; see docs/runner-sandbox.md.) Then makes a fresh, uniquely named
 * folder in it with mode 0700 and returns its path.
 */
export async function createWorkspace(root: string): Promise<string> {
  await mkdir(root, { recursive: true, mode: 0o711 });
  const mode = (await lstat(root)).mode & 0o7777;
  if ((mode & 0o711) !== 0o711) await chmod(root, mode | 0o711);
  const dir = join(root, `${WORKSPACE_PREFIX}${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

/**
 * Removes a workspace and everything in it, even what the chunk made hard to remove (read-only files, directories
 * of mode 000): it makes every directory writable and searchable first, then deletes. Never follows symlinks.
 */
export async function removeWorkspace(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
    return;
  } catch {
    // A directory without write or search permission for us (we may not be root): open everything up, then retry.
  }
  await makeRemovable(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 2 });
}

async function makeRemovable(dir: string): Promise<void> {
  const info = await lstat(dir).catch(() => undefined);
  if (!info?.isDirectory()) return;
  await chmod(dir, 0o700).catch(() => undefined);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory()) await makeRemovable(join(dir, entry.name));
}

/**
 * Removes the workspaces a crashed earlier run left in `root` (only folders named with WORKSPACE_PREFIX; anything
 * else there is left alone). Call once at start, before any chunk runs. Returns the names removed.
 */
export async function sweepStaleWorkspaces(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !entry.name.startsWith(WORKSPACE_PREFIX)) continue;
    await removeWorkspace(join(root, entry.name));
    removed.push(entry.name);
  }
  return removed;
}

/**
 * Why a job.files name is refused, or undefined when it is fine: relative, `/`-separated, no `.`/`..` segment,
 * not one of the contract's own files or under out/ or checkpoint/.
 */
export function checkFileName(name: string): string | undefined {
  if (name.length === 0 || name.length > 1024) return 'must be 1 to 1024 characters';
  if (name.startsWith('/') || name.includes('\\') || name.includes('\0')) return 'must be a relative path with / separators';
  const parts = name.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) return 'may not contain empty, "." or ".." segments';
  if (RESERVED_NAMES.has(name)) return `"${name}" is written by the runner`;
  if (RESERVED_DIRS.includes(parts[0])) return `may not be under ${parts[0]}/`;
  return undefined;
}

export interface WorkspaceJob {
  source?: string;
  files?: Record<string, string>;
}

/**
 * Lays out a fresh workspace for a chunk: main.py (job.source), job.files, input.json, and the out/ and
 * checkpoint/ folders (checkpoint/ may already hold a restored checkpoint). Throws on a bad file name.
 */
export async function prepareWorkspace(dir: string, job: WorkspaceJob, input: unknown): Promise<void> {
  const files = Object.entries(job.files ?? {});
  for (const [name] of files) {
    const problem = checkFileName(name);
    if (problem) throw new Error(`job file "${name}": ${problem}`);
  }
  if (job.source !== undefined) await writeFile(join(dir, 'main.py'), job.source);
  for (const [name, text] of files) {
    const path = join(dir, ...name.split('/'));
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, text);
  }
  await writeFile(join(dir, 'input.json'), JSON.stringify(input ?? null));
  await mkdir(join(dir, 'out'), { recursive: true });
  await mkdir(join(dir, 'checkpoint'), { recursive: true });
}

/** A file the chunk left under /work/out/: its name relative to out/ and where it lies on the host. */
export interface WorkspaceFile {
  name: string;
  size: number;
  path: string;
}

/**
 * Regular files under `dir/sub` (default out/), by lstat: symlinks, devices and fifos the chunk made are skipped,
 * so a link to a host file can never be read back as an attachment. Call only after the chunk's processes are dead.
 */
export async function listFiles(dir: string, sub = 'out'): Promise<WorkspaceFile[]> {
  const base = join(dir, sub);
  const found: WorkspaceFile[] = [];
  const walk = async (folder: string, prefix: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(folder, entry.name);
      const name = prefix ? posix.join(prefix, entry.name) : entry.name;
      if (entry.isDirectory()) await walk(path, name);
      else if (entry.isFile()) found.push({ name, size: (await lstat(path)).size, path });
    }
  };
  const info = await lstat(base).catch(() => undefined);
  if (info?.isDirectory()) await walk(base, '');
  return found;
}

/** Bytes (allocated blocks, so sparse files count what they use) and entries under `dir`, not following links. */
export async function workspaceUsage(dir: string): Promise<{ bytes: number; entries: number }> {
  let bytes = 0;
  let entries = 0;
  const walk = async (folder: string): Promise<void> => {
    const names = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of names) {
      entries++;
      const path = join(folder, entry.name);
      const info = await lstat(path).catch(() => undefined);
      if (!info) continue;
      bytes += Math.max(info.size, info.blocks * 512);
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(dir);
  return { bytes, entries };
}

/**
 * Reads a regular file of at most `maxBytes` without following a symlink at its last component. Returns
 * 'missing', 'not-a-file', 'too-large' or the text.
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<string | 'missing' | 'not-a-file' | 'too-large'> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return 'missing';
  if (!info.isFile()) return 'not-a-file';
  if (info.size > maxBytes) return 'too-large';
  const { constants } = await import('node:fs');
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
