// Checks the Collatz script-mode job: parses each chunk's printed report and compares it with chain lengths
// computed here in TypeScript for the same arguments.
import type { ChunkResult } from '../../protocol/index.js';
import { outputsInOrder, stdoutOf } from '../checking.js';
import job from './job.json' with { type: 'json' };

/** Reads `--name value` pairs of one chunk's argv. */
function argument(argv: string[], name: string, fallback?: number): number {
  const at = argv.indexOf(`--${name}`);
  if (at < 0) {
    if (fallback === undefined) throw new Error(`job.json: chunk arguments lack --${name}`);
    return fallback;
  }
  return Number(argv[at + 1]);
}

/** Collatz steps to reach 1; trajectories from below 2^32 stay far below 2^53, so plain numbers are exact. */
function createStepCounter(): (n: number) => number {
  const known = new Map<number, number>([[1, 0]]);
  return (n) => {
    const path: number[] = [];
    let value = n;
    while (!known.has(value)) {
      path.push(value);
      value = value % 2 === 0 ? value / 2 : 3 * value + 1;
    }
    let steps = known.get(value)!;
    for (let at = path.length - 1; at >= 0; at--) known.set(path[at], ++steps);
    return known.get(n)!;
  };
}

/** The report main.py prints for [start, stop), line by line. */
function expectedReport(start: number, stop: number, top: number, steps: (n: number) => number): string[] {
  const lengths: [number, number][] = [];
  let total = 0;
  for (let n = start; n < stop; n++) {
    lengths.push([n, steps(n)]);
    total += steps(n);
  }
  lengths.sort(([a, m], [b, n]) => n - m || a - b);
  return [
    `Collatz chains for ${start} <= n < ${stop}`,
    `checked: ${stop - start}`,
    `total steps: ${total}`,
    `longest ${top}:`,
    ...lengths.slice(0, top).map(([n, s]) => `  n=${n} steps=${s}`),
  ];
}

export function check(results: ChunkResult[]): void {
  outputsInOrder(results, job.inputs.length);
  const steps = createStepCounter();
  const byIndex = new Map(results.map((result) => [result.index, result]));
  job.inputs.forEach((argv, index) => {
    const start = argument(argv, 'start');
    const stop = argument(argv, 'stop');
    const expected = expectedReport(start, stop, argument(argv, 'top', 3), steps);
    // Line endings and trailing blank lines are not part of the report.
    const printed = stdoutOf(byIndex.get(index)!).replace(/\r\n/g, '\n').trimEnd().split('\n');
    const mismatch = expected.findIndex((line, at) => printed[at] !== line);
    if (mismatch >= 0 || printed.length !== expected.length) {
      const at = mismatch >= 0 ? mismatch : Math.min(printed.length, expected.length);
      throw new Error(
        `chunk ${index} (${argv.join(' ')}): report line ${at + 1} should be ${JSON.stringify(expected[at] ?? '(end of report)')}, ` +
          `got ${JSON.stringify(printed[at] ?? '(end of report)')}`,
      );
    }
  });
}
