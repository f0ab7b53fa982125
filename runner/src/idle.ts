// Idle detection for --only-when-idle: how busy the machine's owner keeps it. The CPU time of every process on the
// machine (/proc/stat) minus the runner's own process tree (its sandboxes included), as a share of all cores, and
// the memory the kernel says is available (/proc/meminfo MemAvailable). Linux only; elsewhere the runner refuses
// --only-when-idle with a clear message rather than guessing.
import { readdir, readFile } from 'node:fs/promises';

export interface LoadSample {
  /** CPU used by processes other than the runner's, percent of the whole machine (all cores = 100). */
  otherCpuPercent: number;
  availableMemoryMb: number;
}

interface Counters {
  busy: number;
  total: number;
  own: number;
}

/** Parses the first `cpu` line of /proc/stat: total and busy (non-idle, non-iowait) jiffies. */
export function parseProcStat(text: string): { busy: number; total: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no cpu line');
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user/nice.
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = fields[3] + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** utime + stime + cutime + cstime and ppid from /proc/<pid>/stat (the command name may hold spaces and parens). */
export function parsePidStat(text: string): { ppid: number; jiffies: number } {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
  return { ppid: Number(rest[1]), jiffies: Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]) };
}

export function parseMemAvailable(text: string): number {
  const match = /^MemAvailable:\s+(\d+) kB/m.exec(text);
  if (!match) throw new Error('/proc/meminfo has no MemAvailable');
  return Number(match[1]) / 1024;
}

/** CPU jiffies of `root` and all its descendants (including reaped children, via cutime/cstime). */
async function treeJiffies(root: number): Promise<number> {
  const stats = new Map<number, { ppid: number; jiffies: number }>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      stats.set(Number(name), parsePidStat(await readFile(`/proc/${name}/stat`, 'utf8')));
    } catch {
      // the process ended while we looked
    }
  }
  const children = new Map<number, number[]>();
  for (const [pid, stat] of stats) {
    const list = children.get(stat.ppid) ?? [];
    list.push(pid);
    children.set(stat.ppid, list);
  }
  let sum = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    sum += stats.get(pid)?.jiffies ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return sum;
}

/**
 * Samples the machine's load between calls.
 * @example
 * const monitor = new LoadMonitor();
 * await monitor.sample(); // primes the counters
 * setInterval(async () => console.log(await monitor.sample()), 2000);
 */
export class LoadMonitor {
  private last?: Counters;

  constructor(private readonly ownPid = process.pid) {}

  static supported(): boolean {
    return process.platform === 'linux';
  }

  async sample(): Promise<LoadSample> {
    const [statText, memText, own] = await Promise.all([readFile('/proc/stat', 'utf8'), readFile('/proc/meminfo', 'utf8'), treeJiffies(this.ownPid)]);
    const { busy, total } = parseProcStat(statText);
    const now: Counters = { busy, total, own };
    const last = this.last;
    this.last = now;
    const availableMemoryMb = parseMemAvailable(memText);
    if (!last || now.total <= last.total) return { otherCpuPercent: 0, availableMemoryMb };
    // Own jiffies can fall when a sandbox exits before its parent reaps it; never count that as others' load.
    const ownDelta = Math.max(0, now.own - last.own);
    const otherBusy = Math.max(0, now.busy - last.busy - ownDelta);
    return { otherCpuPercent: Math.min(100, (100 * otherBusy) / (now.total - last.total)), availableMemoryMb };
  }
}

/** Why the machine is not idle (undefined: it is), in words for the status line and the log. */
export function busyReason(sample: LoadSample, limits: { cpuPercent: number; memoryMb: number }): string | undefined {
  if (sample.otherCpuPercent > limits.cpuPercent) {
    return `the machine is in use (other programs use ${sample.otherCpuPercent.toFixed(0)}% of its CPU, above ${limits.cpuPercent}%)`;
  }
  if (sample.availableMemoryMb < limits.memoryMb) {
    return `memory is short (${sample.availableMemoryMb.toFixed(0)} MiB free, below ${limits.memoryMb} MiB)`;
  }
  return undefined;
}

/**
 * Turns samples into a pause decision with hysteresis: busy at once when one sample is over the limits, idle again
 * only after `calmSamples` samples in a row under them (a moment of quiet is not the owner leaving).
 */
export class IdleGate {
  private calm = 0;
  private reason?: string;

  constructor(
    private readonly limits: { cpuPercent: number; memoryMb: number },
    private readonly calmSamples = 3,
  ) {}

  /** The pause reason after this sample (undefined: may compute). */
  update(sample: LoadSample): string | undefined {
    const busy = busyReason(sample, this.limits);
    if (busy) {
      this.calm = 0;
      this.reason = busy;
    } else if (this.reason && ++this.calm >= this.calmSamples) {
      this.reason = undefined;
    }
    return this.reason;
  }
}
