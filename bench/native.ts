// Native runtime benchmark: a CPU-bound python3 program through runNativeChunk (bubblewrap) against the same
// /usr/bin/python3 run directly, in the same run; bubblewrap's start cost per chunk; a container's start cost.
// Run alone with `npx tsx bench/native.ts`; bench/run.ts calls benchNative().
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PRIME_COUNT } from './kernels.js';
import { createWorkspace, detectSandbox, removeWorkspace, runNativeChunk, type NativeLimits } from '../runner/native/index.js';

const COMMAND = 'npx tsx bench/native.ts';
const KERNEL_N = 300_000;
const KERNEL_REPEATS = 7;
const START_RUNS = 50;
const CONTAINER_RUNS = 10;
const PYTHON = '/usr/bin/python3'; // the interpreter the sandbox sees, so both sides run the same binary


const limits: NativeLimits = { timeoutMs: 120_000, memoryMb: 1024, fileSizeMb: 64, maxProcesses: 64, diskQuotaMb: 128 };

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export async function benchNative(): Promise<{ markdown: string }> {
  const sandbox = await detectSandbox();
  if (!sandbox.bwrap) return { markdown: '_Skipped: bubblewrap (bwrap) is not installed._' };
  const root = await mkdtemp(join(tmpdir(), 'idle-sense-bench-native-'));
  const run = promisify(execFile);
  try {
    // 1. The same program, alternately direct and sandboxed, so load on the box hits both alike.
    const direct = await mkdtemp(join(root, 'direct-'));
    await writeFile(join(direct, 'main.py'), PRIME_COUNT);
    const directS: number[] = [];
    const sandboxS: number[] = [];
    const directWall: number[] = [];
    const sandboxWall: number[] = [];
    let result = 0;
    for (let i = 0; i < KERNEL_REPEATS; i++) {
      let t = performance.now();
      const { stdout } = await run(PYTHON, ['main.py', String(KERNEL_N)], { cwd: direct });
      directWall.push((performance.now() - t) / 1000);
      const parsed = JSON.parse(stdout) as { result: number; seconds: number };
      directS.push(parsed.seconds);
      result = parsed.result;
      const dir = await createWorkspace(root);
      t = performance.now();
      const chunk = await runNativeChunk({ job: { command: ['python3', 'main.py'], source: PRIME_COUNT }, input: [KERNEL_N], workspaceDir: dir, limits, sandbox });
      sandboxWall.push((performance.now() - t) / 1000);
      if (!chunk.ok) throw new Error(`sandboxed kernel failed: ${chunk.error}`);
      const inside = JSON.parse(String(chunk.output)) as { result: number; seconds: number };
      if (inside.result !== result) throw new Error(`results differ: ${inside.result} vs ${result}`);
      sandboxS.push(inside.seconds);
      await removeWorkspace(dir);
    }
    const ratio = quantile(sandboxWall, 0.5) / quantile(directWall, 0.5);

    // 2. Start cost: a chunk that runs `true`, end to end (workspace layout, spawn, wait, read back).
    const startMs: number[] = [];
    for (let i = 0; i < START_RUNS + 5; i++) {
      const dir = await createWorkspace(root);
      const t = performance.now();
      const chunk = await runNativeChunk({ job: { command: ['true'] }, input: null, workspaceDir: dir, limits, sandbox });
      if (i >= 5) startMs.push(performance.now() - t); // the first few warm the page cache
      if (!chunk.ok) throw new Error(`true failed: ${chunk.error}`);
      await removeWorkspace(dir);
    }
    const bareMs: number[] = [];
    for (let i = 0; i < START_RUNS; i++) {
      const t = performance.now();
      await run('/bin/true', []);
      bareMs.push(performance.now() - t);
    }

    // 3. Container start cost, where an engine and busybox are here (image made locally with `import`).
    let containerLine = '| container start (`true`) | _skipped: no container engine_ | | |';
    const engine = sandbox.container;
    if (engine) {
      const image = `localhost/idle-sense-bench-busybox:${process.pid}`;
      const rootfs = join(root, 'rootfs');
      await run('mkdir', ['-p', join(rootfs, 'bin'), join(rootfs, 'tmp'), join(rootfs, 'work')]);
      await run('cp', ['/bin/busybox', join(rootfs, 'bin/busybox')]);
      await run('ln', ['-s', 'busybox', join(rootfs, 'bin/true')]);
      await run('tar', ['-C', rootfs, '-cf', join(root, 'rootfs.tar'), '.']);
      await run(engine.engine, [...engine.extraFlags, 'import', join(root, 'rootfs.tar'), image]);
      const containerMs: number[] = [];
      try {
        for (let i = 0; i < CONTAINER_RUNS + 1; i++) {
          const dir = await createWorkspace(root);
          const t = performance.now();
          const chunk = await runNativeChunk({ job: { command: ['true'], image }, input: null, workspaceDir: dir, limits, sandbox, container: { pull: 'never' } });
          if (i >= 1) containerMs.push(performance.now() - t);
          if (!chunk.ok) throw new Error(`container true failed: ${chunk.error}`);
          await removeWorkspace(dir);
        }
      } finally {
        await run(engine.engine, [...engine.extraFlags, 'rmi', '-f', image]).catch(() => undefined);
      }
      containerLine = `| container start (\`true\`, ${engine.engine} ${engine.version.replace(/^\D+/, '')}) | ${quantile(containerMs, 0.5).toFixed(0)} ms | ${quantile(containerMs, 0.95).toFixed(0)} ms | ${CONTAINER_RUNS} runs |`;
    }

    const f = (v: number) => v.toFixed(3);
    const markdown = [
      '## Native runtime (runner/native)',
      '',
      `\`${COMMAND}\`. bubblewrap ${sandbox.bwrap.version}, ${PYTHON} on both sides; sandbox runs as uid ${sandbox.uid}.`,
      '',
      `| prime count to ${KERNEL_N.toLocaleString('en')} (${KERNEL_REPEATS} runs each, interleaved) | direct | bwrap | bwrap / direct |`,
      '| --- | --- | --- | --- |',
      `| kernel seconds (median, measured inside python) | ${f(quantile(directS, 0.5))} | ${f(quantile(sandboxS, 0.5))} | ${(quantile(sandboxS, 0.5) / quantile(directS, 0.5)).toFixed(3)} |`,
      `| whole run, wall seconds (median) | ${f(quantile(directWall, 0.5))} | ${f(quantile(sandboxWall, 0.5))} | ${ratio.toFixed(3)} |`,
      '',
      `Goal: within 5% (${ratio <= 1.05 ? 'met' : 'not met'} on the whole-run wall time).`,
      '',
      '| start cost per chunk | p50 | p95 | |',
      '| --- | --- | --- | --- |',
      `| bwrap chunk running \`true\` (workspace layout + spawn + read back) | ${quantile(startMs, 0.5).toFixed(1)} ms | ${quantile(startMs, 0.95).toFixed(1)} ms | ${START_RUNS} runs; goal ≤ 20 ms |`,
      `| \`/bin/true\` spawned directly from Node, for reference | ${quantile(bareMs, 0.5).toFixed(1)} ms | ${quantile(bareMs, 0.95).toFixed(1)} ms | ${START_RUNS} runs |`,
      containerLine,
    ].join('\n');
    return { markdown };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log((await benchNative()).markdown);
}
