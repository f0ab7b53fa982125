// What this machine offers for native chunks, found once per process: bubblewrap (and which of its options), prlimit,
// and a container engine (podman or docker, same CLI) with whether it can apply cgroup limits here.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export type ContainerEngine = 'podman' | 'docker';

export interface SandboxInfo {
  /** bubblewrap, when `bwrap --version` answers. */
  bwrap?: { path: string; version: string; /** `--size` for tmpfs (bubblewrap ≥ 0.5) */ tmpfsSize: boolean; disableUserns: boolean };
  /** util-linux prlimit, run inside the sandbox to set the chunk's rlimits; without it no rlimits are set. */
  prlimit?: string;
  containerEngine?: ContainerEngine;
  container?: {
    engine: ContainerEngine;
    version: string;
    rootless: boolean;
    /** Whether `--memory`, `--cpus` and `--pids-limit` take effect here (cgroup controllers available to the engine). */
    cgroupLimits: boolean;
    /** Why cgroup limits are off, when they are. */
    cgroupNote?: string;
    /** Extra flags this engine needs on this machine (e.g. `--runtime runc` where crun fails). */
    extraFlags: string[];
  };
  /** uid/gid the sandbox runs as: the runner's own, or `sandboxUser` when the runner is root. */
  uid: number;
  gid: number;
}

export interface DetectOptions {
  /** Environment to read IDLE_SENSE_CONTAINER_ENGINE / IDLE_SENSE_PODMAN_RUNTIME from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * The unprivileged user chunks run as when the runner itself is root (RLIMIT_NPROC is never enforced for uid 0).
   * Default 65534:65534 (nobody); a dedicated unused uid is better on a shared machine.
   */
  sandboxUser?: { uid: number; gid: number };
}

function run(file: string, args: string[], timeoutMs = 10_000): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ ok: !error, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function detectBwrap(): Promise<SandboxInfo['bwrap']> {
  const version = await run('bwrap', ['--version']);
  if (!version.ok) return undefined;
  const help = await run('bwrap', ['--help']);
  const text = help.stdout + help.stderr;
  return {
    path: 'bwrap',
    version: version.stdout.trim().replace(/^bubblewrap\s*/, ''),
    tmpfsSize: text.includes('--size'),
    disableUserns: text.includes('--disable-userns'),
  };
}

async function detectContainer(env: NodeJS.ProcessEnv): Promise<SandboxInfo['container']> {
  const wanted = env.IDLE_SENSE_CONTAINER_ENGINE as ContainerEngine | undefined;
  for (const engine of wanted ? [wanted] : (['podman', 'docker'] as const)) {
    const info = await run(engine, ['info', '--format', '{{json .}}'], 15_000);
    if (!info.ok) continue; // a client without a reachable engine (docker here) answers --version but not info
    const version = (await run(engine, ['--version'])).stdout.trim();
    let parsed: Record<string, any> = {};
    try {
      parsed = JSON.parse(info.stdout) as Record<string, any>;
    } catch {
      // keep the defaults below
    }
    if (engine === 'podman') {
      const host = parsed.host ?? {};
      const rootless = Boolean(host.security?.rootless);
      const controllers: string[] = host.cgroupControllers ?? [];
      const v2 = host.cgroupVersion === 'v2';
      // Rootful podman manages cgroups itself; rootless needs cgroup v2 with the controllers delegated to the user.
      const cgroupLimits = !rootless || (v2 && ['memory', 'pids', 'cpu'].every((c) => controllers.includes(c)));
      const runtime = env.IDLE_SENSE_PODMAN_RUNTIME ?? ((await run('runc', ['--version'])).ok ? 'runc' : undefined);
      return {
        engine,
        version,
        rootless,
        cgroupLimits,
        cgroupNote: cgroupLimits ? undefined : `rootless podman on cgroup ${host.cgroupVersion ?? '?'} without delegated memory/pids/cpu controllers`,
        extraFlags: runtime ? ['--runtime', runtime] : [],
      };
    }
    const rootless = Array.isArray(parsed.SecurityOptions) && parsed.SecurityOptions.some((o: string) => o.includes('rootless'));
    const cgroupLimits = parsed.MemoryLimit !== false && parsed.PidsLimit !== false && parsed.CPUCfsQuota !== false;
    return {
      engine,
      version,
      rootless,
      cgroupLimits,
      cgroupNote: cgroupLimits ? undefined : 'docker reports no memory/pids/CPU limit support',
      extraFlags: [],
    };
  }
  return undefined;
}

let cached: Promise<SandboxInfo> | undefined;

/**
 * Probes the machine once (later calls return the same answer). Example:
 * `const info = await detectSandbox(); if (!info.bwrap) offer no native runtime`.
 */
export function detectSandbox(options: DetectOptions = {}): Promise<SandboxInfo> {
  cached ??= (async () => {
    const env = options.env ?? process.env;
    const [bwrap, prlimitProbe, container] = await Promise.all([detectBwrap(), run('prlimit', ['--version']), detectContainer(env)]);
    const root = process.getuid?.() === 0;
    const user = root ? (options.sandboxUser ?? { uid: 65534, gid: 65534 }) : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    return {
      bwrap,
      prlimit: prlimitProbe.ok ? ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p)) : undefined,
      containerEngine: container?.engine,
      container,
      uid: user.uid,
      gid: user.gid,
    };
  })();
  return cached;
}
