// The Python package source: what it offers, what it refuses at submission, and what it serves to workers.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { MemoryStore } from '../store/memory.js';
import { PythonPackages, canonicalName, parseWheelName } from './python-packages.js';

function packageDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'idle-sense-packages-'));
  writeFileSync(join(dir, 'Idle_Sense.Demo-1.2.0-py3-none-any.whl'), 'wheel bytes');
  writeFileSync(join(dir, 'present-1.0-py3-none-any.whl'), 'present');
  writeFileSync(join(dir, 'notes.txt'), 'not a wheel');
  writeFileSync(
    join(dir, 'pyodide-lock.json'),
    JSON.stringify({
      info: { python: '3.14.2' },
      packages: {
        present: { name: 'present', version: '1.0', file_name: 'present-1.0-py3-none-any.whl', install_dir: 'site', sha256: 'x', package_type: 'package', imports: [], depends: [] },
        absent: { name: 'absent', version: '1.0', file_name: 'absent-1.0-py3-none-any.whl', install_dir: 'site', sha256: 'y', package_type: 'package', imports: [], depends: [] },
        needy: { name: 'needy', version: '1.0', file_name: 'present-1.0-py3-none-any.whl', install_dir: 'site', sha256: 'x', package_type: 'package', imports: [], depends: ['absent'] },
      },
    }),
  );
  return dir;
}

describe('PythonPackages', () => {
  it('offers lock entries whose wheel is present and loose wheels, hashed, under canonical names', () => {
    const packages = PythonPackages.open(packageDir());
    expect(packages.names()).toEqual(['idle-sense-demo', 'present']);
    expect(packages.lock.packages['idle-sense-demo']).toMatchObject({
      version: '1.2.0',
      file_name: 'Idle_Sense.Demo-1.2.0-py3-none-any.whl',
      sha256: createHash('sha256').update('wheel bytes').digest('hex'),
    });
    expect(packages.missing(['Idle-Sense_demo', 'present', 'absent', 'needy'])).toEqual(['absent', 'needy']);
  });

  it('the npm core offers nothing (its lock lists packages it does not ship)', () => {
    const packages = PythonPackages.open(join(import.meta.dirname, '../../../node_modules/pyodide'));
    expect(packages.missing(['numpy'])).toEqual(['numpy']);
  });

  it('parses wheel names', () => {
    expect(parseWheelName('numpy-2.0.0-cp314-cp314-pyodide_2026_0_wasm32.whl')).toEqual({ name: 'numpy', version: '2.0.0' });
    expect(parseWheelName('not-a-wheel.zip')).toBeUndefined();
    expect(canonicalName('Foo__Bar.baz')).toBe('foo-bar-baz');
  });
});

describe('packages over HTTP', () => {
  const { app } = createApp({ store: new MemoryStore(), config: { pythonPackagesDir: packageDir() } });
  const submit = (packages: string[]) =>
    app.request('/api/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ runtime: 'python', source: 'def main(x):\n    return x\n', inputs: [1], packages }),
    });

  it('accepts a job whose packages are all available', async () => {
    expect((await submit(['idle-sense-demo', 'present'])).status).toBe(201);
  });

  it('rejects a job asking for a package the source cannot provide, naming it', async () => {
    const res = await submit(['present', 'numpy']);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('INVALID_REQUEST');
    expect(body.error.message).toContain(`packages: "numpy" is not available from this coordinator's package source`);
    expect(body.error.message).toContain('--python-packages');
  });

  it('serves the lock file and the wheels it names, nothing else', async () => {
    const lock = (await (await app.request('/python-packages/pyodide-lock.json')).json()) as { packages: object };
    expect(Object.keys(lock.packages).sort()).toEqual(['idle-sense-demo', 'present']);
    const wheel = await app.request('/python-packages/present-1.0-py3-none-any.whl');
    expect(wheel.status).toBe(200);
    expect(await wheel.text()).toBe('present');
    expect((await app.request('/python-packages/notes.txt')).status).toBe(404);
    expect((await app.request('/python-packages/..%2Fpyodide-lock.json')).status).toBe(404);
  });
});
