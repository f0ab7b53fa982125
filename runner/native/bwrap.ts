// The bubblewrap command line for one native chunk: read-only system directories, a synthetic /etc, an empty tmpfs
// home, /work (the chunk's workspace on the host) the only writable host path, every namespace unshared (no
// network), no capabilities, and the chunk's rlimits set by prlimit inside the sandbox. Pure: builds argv only.
// docs/runner-sandbox.md explains every flag.
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import type { SandboxInfo } from './detect.js';
import type { NativeLimits } from './limits.js';
import { prlimitArgs } from './limits.js';

/** Top-level system paths bound read-only (or recreated as the same symlink, on merged-/usr systems). */
const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * The /etc entries programs commonly need (dynamic loader cache, alternatives symlinks, time zone, TLS roots,
 * name-service config). Everything else in /etc — shadow, the host's passwd, hostname, machine-id, ssh keys — stays
 * out; passwd, group and hosts are synthetic (written through file descriptors, see `etcData`).
 */
const ETC_ENTRIES = [
  'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'alternatives', 'localtime', 'timezone', 'zoneinfo', 'ssl',
  'ca-certificates', 'ca-certificates.conf', 'mime.types', 'nsswitch.conf', 'host.conf', 'gai.conf', 'protocols',
  'services', 'fonts',
];

/** uid and gid the chunk sees inside the sandbox, whatever host uid it runs as (results do not depend on it). */
export const CHUNK_UID = 1000;
export const CHUNK_HOME = '/home/chunk';

/** The synthetic /etc files, in the order of the descriptors (3, 4, 5) the spawner writes them to. */
export function etcData(): { path: string; text: string }[] {
  return [
    { path: '/etc/passwd', text: `root:x:0:0:root:/root:/usr/sbin/nologin\nchunk:x:${CHUNK_UID}:${CHUNK_UID}:chunk:${CHUNK_HOME}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n` },
    { path: '/etc/group', text: `root:x:0:\nchunk:x:${CHUNK_UID}:\nnogroup:x:65534:\n` },
    { path: '/etc/hosts', text: '127.0.0.1 localhost chunk\n::1 localhost ip6-localhost ip6-loopback\n' },
  ];
}

/** The minimal environment a chunk gets (the runner's own environment never reaches it). */
export function chunkEnv(): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: CHUNK_HOME,
    USER: 'chunk',
    LOGNAME: 'chunk',
    TMPDIR: '/tmp',
    LANG: 'C.UTF-8',
  };
}

export interface BwrapCommand {
  file: string;
  args: string[];
  /** Data for the descriptors 3.. named in `args` (--ro-bind-data). */
  fdData: string[];
}

/**
 * Builds `bwrap … prlimit … -- command…`. `workspaceDir` is bound at /work; `argv` is the chunk's command and
 * arguments (run with cwd /work, resolved on the sandbox's PATH).
 */
export function bwrapCommand(sandbox: SandboxInfo, workspaceDir: string, argv: string[], limits: NativeLimits): BwrapCommand {
  const bwrap = sandbox.bwrap;
  if (!bwrap) throw new Error('bubblewrap (bwrap) is not installed');
  const args: string[] = [
    // Namespaces: user, mount, pid, ipc, uts, cgroup and network (a new netns holds only a loopback interface).
    '--unshare-all', '--unshare-user',
    ...(bwrap.disableUserns ? ['--disable-userns'] : []),
    '--uid', String(CHUNK_UID), '--gid', String(CHUNK_UID),
    '--hostname', 'chunk',
    '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
    '--clearenv',
  ];
  for (const [key, value] of Object.entries(chunkEnv())) args.push('--setenv', key, value);
  for (const path of SYSTEM_PATHS) {
    const info = lstatOrUndefined(path);
    if (info?.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else if (info?.isDirectory()) args.push('--ro-bind', path, path);
  }
  args.push('--dir', '/etc');
  for (const entry of ETC_ENTRIES) if (existsSync(`/etc/${entry}`)) args.push('--ro-bind', `/etc/${entry}`, `/etc/${entry}`);
  etcData().forEach(({ path }, i) => args.push('--perms', '0644', '--ro-bind-data', String(3 + i), path));
  const tmpBytes = String(Math.max(1, limits.tmpMb ?? 64) * 2 ** 20);
  const size = (bytes: string) => (bwrap.tmpfsSize ? ['--size', bytes] : []);
  args.push(
    '--proc', '/proc',
    '--dev', '/dev',
    ...(limits.devices ?? []).filter((device) => existsSync(device)).flatMap((device) => ['--dev-bind', device, device]),
    ...size(tmpBytes), '--tmpfs', '/tmp',
    ...size(tmpBytes), '--tmpfs', CHUNK_HOME,
    '--bind', workspaceDir, '/work',
    '--chdir', '/work',
    // Last: the sandbox's own root (a tmpfs holding the mount points) becomes read-only, so /work, /tmp and the
    // home are the only writable places.
    '--remount-ro', '/',
  );
  const limited = sandbox.prlimit ? [sandbox.prlimit, ...prlimitArgs(limits), '--'] : [];
  return { file: bwrap.path, args: [...args, ...limited, ...argv], fdData: etcData().map((d) => d.text) };
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
