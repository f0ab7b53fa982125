// The contributor's controls, persisted in IndexedDB (idb-keyval) and editable on `/`. Values are clamped here, once,
// so the loop and the page can trust them.
import { get, set } from 'idb-keyval';

export interface ContributorSettings {
  /** Runtime threads (Web Workers), each using up to one core. */
  threads: number;
  /** Share of one core each thread may use, in percent (run/pause duty cycle). 100 = no limit. */
  cpuLimit: number;
  /** Compute only while the computer is not in use. */
  onlyWhenIdle: boolean;
  /** Minutes without input (on this page, and system-wide when idle detection is granted) before it counts as idle. */
  idleMinutes: number;
  /** Pause while the computer runs on battery. */
  pauseOnBattery: boolean;
  /** Pause while the CPU is under pressure (serious/critical), resume at nominal/fair. */
  pauseUnderHeat: boolean;
  /** WebAssembly memory per thread, in MiB, beyond which its worker is replaced after its chunk. */
  memoryCeilingMiB: number;
  /** Replace each worker after this many chunks (keeps long sessions fresh). */
  recycleAfterChunks: number;
  /** Let ONNX chunks run on the GPU (WebGPU) when the browser has an adapter; off: WebAssembly only. */
  useGpu: boolean;
}

const KEY = 'idle-sense.settings';
const LEGACY_THREADS_KEY = 'idle-sense.threads';

export function defaultSettings(cores: number): ContributorSettings {
  return {
    threads: Math.max(1, cores - 1),
    cpuLimit: 100,
    onlyWhenIdle: false,
    idleMinutes: 5,
    pauseOnBattery: true,
    pauseUnderHeat: false,
    memoryCeilingMiB: 1024,
    recycleAfterChunks: 1000,
    useGpu: true,
  };
}

const clamp = (value: unknown, min: number, max: number, fallback: number, integer = true): number => {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) return fallback;
  const bounded = Math.min(max, Math.max(min, n));
  return integer ? Math.round(bounded) : bounded;
};

/** Fills gaps with defaults and clamps every field to a sane range. */
export function normalizeSettings(raw: Partial<Record<keyof ContributorSettings, unknown>> | undefined, cores: number): ContributorSettings {
  const d = defaultSettings(cores);
  const r = raw ?? {};
  const bool = (value: unknown, fallback: boolean) => (typeof value === 'boolean' ? value : fallback);
  return {
    threads: clamp(r.threads, 1, Math.max(1, cores) * 2, d.threads),
    cpuLimit: clamp(r.cpuLimit, 5, 100, d.cpuLimit),
    onlyWhenIdle: bool(r.onlyWhenIdle, d.onlyWhenIdle),
    idleMinutes: clamp(r.idleMinutes, 0.05, 240, d.idleMinutes, false),
    pauseOnBattery: bool(r.pauseOnBattery, d.pauseOnBattery),
    pauseUnderHeat: bool(r.pauseUnderHeat, d.pauseUnderHeat),
    memoryCeilingMiB: clamp(r.memoryCeilingMiB, 64, 4096, d.memoryCeilingMiB),
    recycleAfterChunks: clamp(r.recycleAfterChunks, 1, 1_000_000, d.recycleAfterChunks),
    useGpu: bool(r.useGpu, d.useGpu),
  };
}

/** Where settings live; storage failures only cost persistence. */
export interface SettingsStore {
  load(): Promise<ContributorSettings>;
  save(settings: ContributorSettings): Promise<void>;
}

export function browserSettingsStore(cores: number): SettingsStore {
  return {
    async load() {
      let saved: Partial<ContributorSettings> | undefined;
      try {
        saved = await get<Partial<ContributorSettings>>(KEY);
      } catch {
        saved = undefined;
      }
      const legacyThreads = globalThis.localStorage?.getItem(LEGACY_THREADS_KEY);
      if (!saved && legacyThreads) saved = { threads: Number(legacyThreads) };
      return normalizeSettings(saved, cores);
    },
    async save(settings) {
      await set(KEY, settings).catch(() => undefined);
    },
  };
}
