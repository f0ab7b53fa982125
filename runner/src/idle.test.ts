// Idle detection: the parsers read the kernel's formats, the gate pauses at once and resumes only after calm, and
// the monitor sees a real busy process that is not the runner's while ignoring the runner's own work.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { busyReason, IdleGate, LoadMonitor, parseMemAvailable, parsePidStat, parseProcStat } from './idle.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('idle detection', () => {
  it('parses /proc/stat, /proc/<pid>/stat (names with spaces and parens) and /proc/meminfo', () => {
    expect(parseProcStat('cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 1 2 3 4\n')).toEqual({ busy: 161, total: 981 });
    const stat = '1234 (my (odd) name) S 99 1234 1234 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0 100 1000 10';
    expect(parsePidStat(stat)).toEqual({ ppid: 99, jiffies: 13 });
    expect(parseMemAvailable('MemTotal: 100 kB\nMemAvailable:    2048000 kB\n')).toBeCloseTo(2000);
  });

  it('pauses on one busy sample and resumes only after several calm ones', () => {
    const gate = new IdleGate({ cpuPercent: 25, memoryMb: 100 }, 3);
    expect(gate.update({ otherCpuPercent: 5, availableMemoryMb: 1000 })).toBeUndefined();
    expect(gate.update({ otherCpuPercent: 60, availableMemoryMb: 1000 })).toMatch(/in use .*60%/);
    expect(gate.update({ otherCpuPercent: 1, availableMemoryMb: 1000 })).toBeDefined();
    expect(gate.update({ otherCpuPercent: 1, availableMemoryMb: 1000 })).toBeDefined();
    expect(gate.update({ otherCpuPercent: 1, availableMemoryMb: 1000 })).toBeUndefined();
    expect(busyReason({ otherCpuPercent: 0, availableMemoryMb: 50 }, { cpuPercent: 25, memoryMb: 100 })).toMatch(/memory is short/);
  });

  it.runIf(LoadMonitor.supported())('counts a busy process of someone else, and not the runner’s own children', async () => {
    const busy = () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    // The runner's own sandbox: a child of the monitored process (here, this test process).
    const own = busy();
    const monitor = new LoadMonitor(process.pid);
    await monitor.sample();
    await sleep(1500);
    const quiet = await monitor.sample();
    own.kill('SIGKILL');
    // Someone else's load: the monitor watches a process tree the busy loop is not part of.
    const other = busy();
    const stranger = new LoadMonitor(1 << 30); // no such pid: everything counts as others' load
    await stranger.sample();
    await sleep(1500);
    const loaded = await stranger.sample();
    other.kill('SIGKILL');
    const onePerMachine = 100 / (await import('node:os')).availableParallelism();
    expect(loaded.otherCpuPercent).toBeGreaterThan(onePerMachine * 0.6);
    expect(quiet.otherCpuPercent).toBeLessThan(loaded.otherCpuPercent - onePerMachine * 0.4);
  });
});
