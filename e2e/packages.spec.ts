// Job packages: a pure-Python wheel this test builds itself is served by the coordinator (--python-packages DIR)
// and loaded into the contributor's Pyodide with its package loader; a package the source cannot provide is
// refused at submission with a clear message.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startCoordinator, waitForJob, type RunningCoordinator } from './coordinator.js';
import { contribute, results, submitJob } from './helpers.js';

/** Builds idlesense_demo-0.1.0-py3-none-any.whl with pip (setuptools, no network) into a fresh directory. */
function buildWheel(): string {
  const root = mkdtempSync(join(tmpdir(), 'idle-sense-wheel-'));
  const project = join(root, 'project');
  mkdirSync(join(project, 'idlesense_demo'), { recursive: true });
  writeFileSync(
    join(project, 'pyproject.toml'),
    '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "idlesense-demo"\nversion = "0.1.0"\n',
  );
  writeFileSync(join(project, 'idlesense_demo', '__init__.py'), 'VERSION = "0.1.0"\n\ndef triple(x):\n    return 3 * x\n');
  const wheels = join(root, 'wheels');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  execFileSync(python, ['-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--no-index', '-q', '-w', wheels, project], { stdio: 'pipe' });
  expect(readdirSync(wheels)).toEqual(['idlesense_demo-0.1.0-py3-none-any.whl']);
  return wheels;
}

let coordinator: RunningCoordinator;
test.beforeAll(async () => {
  coordinator = await startCoordinator({ store: 'memory', args: ['--python-packages', buildWheel()] });
});
test.afterAll(async () => {
  await coordinator?.stop();
});

test('a job listing a package from the coordinator\'s source imports it in the browser', async ({ browser }) => {
  const job = await submitJob(coordinator.url, {
    name: 'with a package',
    source: 'import idlesense_demo\n\ndef main(x):\n    return [idlesense_demo.VERSION, idlesense_demo.triple(x)]\n',
    inputs: [1, 2, 3],
    packages: ['idlesense-demo'],
  });
  const tab = await contribute(browser, coordinator.url, 1);
  await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed', 120_000);
  expect((await results(coordinator.url, job.id)).map((r) => r.output)).toEqual([['0.1.0', 3], ['0.1.0', 6], ['0.1.0', 9]]);
  await tab.context.close();
});

test('a package the source cannot provide is refused at submission, naming it', async () => {
  const res = await fetch(`${coordinator.url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ runtime: 'python', source: 'import numpy\n', inputs: [1], packages: ['idlesense-demo', 'numpy'] }),
  });
  expect(res.status).toBe(400);
  const { error } = (await res.json()) as { error: { code: string; message: string } };
  expect(error.code).toBe('INVALID_REQUEST');
  expect(error.message).toContain(`packages: "numpy" is not available from this coordinator's package source (it offers idlesense-demo;`);
});
