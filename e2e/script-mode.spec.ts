// An unmodified command-line program (argparse, main() without arguments) runs in script mode with argv inputs and
// prints exactly what Debian's native python3 prints for the same arguments.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startCoordinator, waitForJob } from './coordinator.js';
import { contribute, results, submitJob } from './helpers.js';

const CLI = `#!/usr/bin/env python3
"""Print a multiplication table and some statistics."""
import argparse
import statistics
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int, help="table size")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    rows = [[(i + 1) * (j + 1) * args.scale for j in range(args.n)] for i in range(args.n)]
    for row in rows:
        print(" ".join(f"{v:g}" for v in row))
    flat = [v for row in rows for v in row]
    print(f"mean={statistics.mean(flat):.4f} median={statistics.median(flat)}")
    if args.verbose:
        print(f"argv={sys.argv[1:]}", file=sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;

test('a command-line script produces the same stdout as native python3', async ({ browser }) => {
  const coordinator = await startCoordinator({ store: 'memory' });
  const argvs = [['3'], ['4', '--scale', '0.5'], ['2', '--verbose'], ['5', '--scale', '2', '--verbose']];
  const job = await submitJob(coordinator.url, { name: 'cli', source: CLI, inputs: argvs });
  const tab = await contribute(browser, coordinator.url);
  await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed', 120_000);

  const dir = mkdtempSync(join(tmpdir(), 'idle-sense-cli-'));
  const file = join(dir, 'main.py');
  writeFileSync(file, CLI);
  const got = await results(coordinator.url, job.id);
  expect(got).toHaveLength(argvs.length);
  argvs.forEach((argv, i) => {
    const native = execFileSync('python3', [file, ...argv], { encoding: 'utf8' });
    expect(got[i].status).toBe('ok');
    expect(got[i].output).toBe(native);
  });
  await tab.context.close();
  await coordinator.stop();
});
