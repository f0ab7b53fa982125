// The command line: defaults, every flag, and one clear line for each mistake.
import { describe, expect, it } from 'vitest';
import { HELP, parseOptions } from './options.js';

describe('runner options', () => {
  it('needs a coordinator, from the flag or the environment', () => {
    expect(() => parseOptions([], {})).toThrow(/--coordinator URL is required/);
    expect(parseOptions([], { IDLE_SENSE_COORDINATOR: 'http://h:8080/' })?.coordinator).toBe('http://h:8080');
    expect(parseOptions(['--coordinator', 'http://a:1'], { IDLE_SENSE_COORDINATOR: 'http://b:2' })?.coordinator).toBe('http://a:1');
  });

  it('reads every flag', () => {
    const o = parseOptions(
      ['--coordinator', 'http://h:1', '--threads', '3', '--memory', '512', '--cpu-limit', '50', '--workspace', '/tmp/w', '--state-dir', '/tmp/s', '--disk-quota', '10', '--runtimes', 'native,python', '--no-gpu', '--only-when-idle', '--idle-cpu', '40', '--idle-memory', '200', '--give-back-after', '30', '--log', 'json', '--checkpoint-every', '5', '--name', 'box'],
      {},
    )!;
    expect(o).toMatchObject({ threads: 3, memoryMb: 512, cpuLimit: 50, workspace: '/tmp/w', stateDir: '/tmp/s', diskQuotaMb: 10, runtimes: ['native', 'python'], gpu: false, onlyWhenIdle: true, idleCpuPercent: 40, idleMemoryMb: 200, giveBackAfterMs: 30_000, log: 'json', checkpointEverySec: 5, name: 'box' });
  });

  it('rejects mistakes with the flag named', () => {
    expect(() => parseOptions(['--coordinator', 'ftp://x'], {})).toThrow(/--coordinator must be an http/);
    expect(() => parseOptions(['--coordinator', 'http://x', '--threads', '0'], {})).toThrow(/--threads must be a whole number from 1/);
    expect(() => parseOptions(['--coordinator', 'http://x', '--runtimes', 'python,cobol'], {})).toThrow(/--runtimes takes/);
    expect(() => parseOptions(['--coordinator', 'http://x', '--bogus'], {})).toThrow(/bogus/);
  });

  it('--help returns nothing to run, and the help names every flag', () => {
    expect(parseOptions(['--help'], {})).toBeUndefined();
    for (const flag of ['--threads', '--memory', '--cpu-limit', '--workspace', '--state-dir', '--only-when-idle', '--gpu', '--no-gpu', '--runtimes', '--disk-quota', '--log']) expect(HELP).toContain(flag);
  });
});
