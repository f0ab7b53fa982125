// The docker/podman command lines for one native chunk with an `image`: no network, read-only root, the workspace
// bound at /work, a small tmpfs /tmp, no capabilities, cgroup limits where the engine applies them here, rlimits
// always, and a unique name so that pause, kill and remove can find the container. Pure: builds argv only.
import { randomBytes } from 'node:crypto';
import type { SandboxInfo } from './detect.js';
import type { NativeLimits } from './limits.js';
import { ulimitArgs } from './limits.js';

/** Every chunk container's name starts with this (`sweepStaleContainers` removes only these). */
export const CONTAINER_PREFIX = 'idle-sense-chunk-';

export function containerName(): string {
  return `${CONTAINER_PREFIX}${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

export interface ContainerCommand {
  file: string;
  args: string[];
  name: string;
  /** Whether --memory/--cpus/--pids-limit are in `args` (false: rlimits only; see docs/runner-sandbox.md). */
  cgroupLimits: boolean;
}

export interface ContainerOptions {
  /** `--pull` policy (default `missing`: an image already on the machine is never fetched again). */
  pull?: 'never' | 'missing' | 'always';
}

/** Builds `podman|docker run --rm --name … IMAGE argv…`. */
export function containerCommand(
  sandbox: SandboxInfo,
  image: string,
  workspaceDir: string,
  argv: string[],
  limits: NativeLimits,
  options: ContainerOptions = {},
): ContainerCommand {
  const engine = sandbox.container;
  if (!engine) throw new Error('no container engine (podman or docker) is available');
  const name = containerName();
  const tmpMb = Math.max(1, limits.tmpMb ?? 64);
  const args = [
    ...engine.extraFlags,
    'run', '--rm', '--name', name,
    '--pull', options.pull ?? 'missing',
    '--network', 'none',
    '--read-only',
    // podman adds writable tmpfs on /run, /tmp and /var/tmp to a read-only container unless told not to.
    ...(engine.engine === 'podman' ? ['--read-only-tmpfs=false'] : []),
    '--tmpfs', `/tmp:rw,nosuid,nodev,size=${tmpMb}m,mode=1777`,
    '--volume', `${workspaceDir}:/work:rw`,
    '--workdir', '/work',
    '--env', 'HOME=/tmp',
    '--hostname', 'chunk',
    '--cap-drop', 'ALL',
    '--security-opt', 'no-new-privileges',
    '--log-driver', 'none',
    // Files the chunk writes in /work must be the runner's to read and delete.
    ...(engine.rootless && engine.engine === 'podman' ? ['--userns', 'keep-id'] : ['--user', `${sandbox.uid}:${sandbox.gid}`]),
  ];
  if (engine.cgroupLimits) {
    args.push('--memory', `${limits.memoryMb}m`, '--memory-swap', `${limits.memoryMb}m`, '--pids-limit', String(limits.maxProcesses));
    if (limits.cpus !== undefined) args.push('--cpus', String(limits.cpus));
  }
  args.push(...ulimitArgs(limits, { cgroupLimits: engine.cgroupLimits }));
  for (const device of limits.devices ?? []) args.push('--device', device);
  args.push(image, ...argv);
  return { file: engine.engine, args, name, cgroupLimits: engine.cgroupLimits };
}
