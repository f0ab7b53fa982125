// What this machine offers, found once at start: cores, memory, GPUs (nvidia-smi when present). The runner sends it
// with every lease request as its capabilities, so jobs that state `requires` reach only machines that meet them.
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Gpu {
  name: string;
  memoryMb: number;
}

/** GPUs nvidia-smi lists (name, total memory); none when it is missing or fails. */
export async function detectGpus(): Promise<Gpu[]> {
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'], { timeout: 10_000 });
    return parseNvidiaSmi(stdout);
  } catch {
    return [];
  }
}

export function parseNvidiaSmi(text: string): Gpu[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .flatMap((line) => {
      const comma = line.lastIndexOf(',');
      const memoryMb = Number(line.slice(comma + 1).trim());
      const name = line.slice(0, comma).trim();
      return comma > 0 && name && Number.isFinite(memoryMb) ? [{ name, memoryMb: Math.round(memoryMb) }] : [];
    });
}

export interface MachineFacts {
  cpuCores: number;
  memoryMb: number;
  gpus: Gpu[];
  platform: string;
}

export async function describeMachine(options: { gpu: boolean }): Promise<MachineFacts> {
  return {
    cpuCores: os.availableParallelism(),
    memoryMb: Math.round(os.totalmem() / 1024 ** 2),
    gpus: options.gpu ? await detectGpus() : [],
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}
