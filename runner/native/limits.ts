// A native chunk's resource limits, and how they become rlimits (prlimit flags, container --ulimit flags).

export interface NativeLimits {
  /** Wall-clock limit; time spent suspended does not count. */
  timeoutMs: number;
  /** CPU seconds (RLIMIT_CPU: SIGXCPU at the limit, SIGKILL a second later). Default: none. */
  cpuSeconds?: number;
  /** Address space per process (RLIMIT_AS) in bwrap; the container's memory cgroup limit (and RLIMIT_AS) with an image. */
  memoryMb: number;
  /** Largest file the chunk may write (RLIMIT_FSIZE); never more than diskQuotaMb. */
  fileSizeMb: number;
  /** Processes and threads (RLIMIT_NPROC, counted in the chunk's own user namespace; pids cgroup with an image). */
  maxProcesses: number;
  /** Bytes the whole workspace may hold, enforced by the host polling it (the chunk is killed past it). */
  diskQuotaMb: number;
  /** CPU cores (container --cpus, where cgroups apply). bwrap has no CPU share limit. */
  cpus?: number;
  /** Size of the sandbox's tmpfs /tmp and home, each (default 64 MiB; counts against the machine's memory). */
  tmpMb?: number;
  /** Open files (RLIMIT_NOFILE, default 1024). */
  maxOpenFiles?: number;
  /**
   * Device nodes the chunk may use besides the minimal /dev (e.g. /dev/nvidia0, /dev/nvidiactl, /dev/nvidia-uvm):
   * the runner passes its GPUs' only to jobs that require a GPU.
   */
  devices?: string[];
}

const MiB = 2 ** 20;

/** The rlimits in bytes/counts, soft and hard. */
export function rlimits(limits: NativeLimits): { name: string; soft: number; hard: number }[] {
  const fsize = Math.min(limits.fileSizeMb, limits.diskQuotaMb) * MiB;
  const nofile = limits.maxOpenFiles ?? 1024;
  const list = [
    { name: 'as', soft: limits.memoryMb * MiB, hard: limits.memoryMb * MiB },
    { name: 'fsize', soft: fsize, hard: fsize },
    { name: 'nproc', soft: limits.maxProcesses, hard: limits.maxProcesses },
    { name: 'nofile', soft: nofile, hard: nofile },
    { name: 'core', soft: 0, hard: 0 },
  ];
  if (limits.cpuSeconds !== undefined) {
    const cpu = Math.max(1, Math.ceil(limits.cpuSeconds));
    list.push({ name: 'cpu', soft: cpu, hard: cpu + 1 });
  }
  return list;
}

/** Flags for util-linux `prlimit` (e.g. `--as=536870912:536870912`). */
export function prlimitArgs(limits: NativeLimits): string[] {
  return rlimits(limits).map(({ name, soft, hard }) => `--${name}=${soft}:${hard}`);
}

/**
 * `--ulimit` flags for docker/podman. Their names have no `as`: where cgroups apply, memory and processes are
 * limited by `--memory`/`--pids-limit` and nproc stays at `nprocCeiling` (RLIMIT_NPROC counts every process of
 * the container's uid on the host, not only this container's); without cgroups RLIMIT_DATA stands in for memory
 * and RLIMIT_NPROC for the process limit.
 */
export function ulimitArgs(limits: NativeLimits, options: { cgroupLimits: boolean; nprocCeiling?: number }): string[] {
  return rlimits(limits).flatMap(({ name, soft, hard }) => {
    if (name === 'as') return options.cgroupLimits ? [] : ['--ulimit', `data=${soft}:${hard}`];
    if (name === 'nproc' && options.cgroupLimits) {
      const ceiling = options.nprocCeiling ?? 4096;
      return ['--ulimit', `nproc=${ceiling}:${ceiling}`];
    }
    return ['--ulimit', `${name}=${soft}:${hard}`];
  });
}
