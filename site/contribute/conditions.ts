// When the tab may compute: the contributor's controls applied to what the browser says about the computer (input,
// battery, CPU pressure). `pauseReasons` is the pure rule; `BrowserConditions` gathers the signals, each only where
// the browser offers it, and says when they change.
import type { ContributorSettings } from './settings.js';

export type PressureState = 'nominal' | 'fair' | 'serious' | 'critical';

/** What is known about the computer right now; undefined where the browser cannot tell. */
export interface Signals {
  /** Epoch ms of the last input on this page. */
  lastInputAt: number;
  /** System-wide user state from the Idle Detection API, when the contributor granted it. */
  systemUser?: 'active' | 'idle';
  /** Screen locked (Idle Detection API): the computer is not in use, whatever the input timer says. */
  screenLocked?: boolean;
  /** True while discharging (Battery Status API). */
  onBattery?: boolean;
  pressure?: PressureState;
}

export type PauseReason = { code: 'in-use' | 'battery' | 'heat'; message: string };

/** Why computing must pause now (empty: it may run). */
export function pauseReasons(settings: ContributorSettings, signals: Signals, now: number): PauseReason[] {
  const reasons: PauseReason[] = [];
  if (settings.onlyWhenIdle && !signals.screenLocked) {
    const idleMs = settings.idleMinutes * 60_000;
    const quietFor = now - signals.lastInputAt;
    if (signals.systemUser === 'active') {
      reasons.push({ code: 'in-use', message: 'the computer is in use (only when idle)' });
    } else if (quietFor < idleMs) {
      const left = Math.ceil((idleMs - quietFor) / 1000);
      reasons.push({ code: 'in-use', message: `you are using this page (only when idle: resumes after ${formatSeconds(left)} without input)` });
    }
  }
  if (settings.pauseOnBattery && signals.onBattery) reasons.push({ code: 'battery', message: 'the computer is running on battery' });
  if (settings.pauseUnderHeat && (signals.pressure === 'serious' || signals.pressure === 'critical')) {
    reasons.push({ code: 'heat', message: `the CPU is under ${signals.pressure} pressure (hot or busy); resumes when it is back to fair` });
  }
  return reasons;
}

function formatSeconds(seconds: number): string {
  return seconds >= 120 ? `${Math.ceil(seconds / 60)} min` : `${seconds} s`;
}

/** Browser APIs that are not in every TypeScript DOM lib yet. */
interface BatteryManager extends EventTarget {
  charging: boolean;
}
interface PressureRecord {
  source: string;
  state: PressureState;
}
declare const PressureObserver: {
  new (callback: (records: PressureRecord[]) => void): { observe(source: 'cpu', options?: { sampleInterval?: number }): Promise<void>; disconnect(): void };
};
interface IdleDetectorLike extends EventTarget {
  userState: 'active' | 'idle' | null;
  screenState: 'locked' | 'unlocked' | null;
  start(options: { threshold: number; signal?: AbortSignal }): Promise<void>;
}
declare const IdleDetector: { new (): IdleDetectorLike; requestPermission(): Promise<'granted' | 'denied'> };

/**
 * Watches the browser's signals and calls `onChange` when one changes (and every second while an idle countdown runs).
 * @example
 * const conditions = new BrowserConditions(() => render());
 * await conditions.start(settings);
 * pauseReasons(settings, conditions.signals, Date.now());
 */
export class BrowserConditions {
  readonly signals: Signals = { lastInputAt: Date.now() };
  private idleAbort?: AbortController;
  private idleThresholdMs = 0;

  constructor(private readonly onChange: () => void) {}

  async start(settings: ContributorSettings): Promise<void> {
    const input = () => {
      this.signals.lastInputAt = Date.now();
      this.onChange();
    };
    for (const type of ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart']) {
      window.addEventListener(type, input, { capture: true, passive: true });
    }
    await Promise.all([this.watchBattery(), this.watchPressure(), this.watchSystemIdle(settings)]);
  }

  /** True when the Idle Detection API exists (it may still need the contributor's permission). */
  static idleDetectionAvailable(): boolean {
    return typeof IdleDetector === 'function';
  }

  /** Asks for permission to use system-wide idle detection (must be called from a click). */
  async requestSystemIdle(settings: ContributorSettings): Promise<boolean> {
    if (!BrowserConditions.idleDetectionAvailable()) return false;
    const state = await IdleDetector.requestPermission().catch(() => 'denied' as const);
    if (state !== 'granted') return false;
    await this.watchSystemIdle(settings);
    return true;
  }

  /** Applies changed settings (the idle threshold). */
  async update(settings: ContributorSettings): Promise<void> {
    if (this.idleAbort && Math.max(60_000, settings.idleMinutes * 60_000) !== this.idleThresholdMs) await this.watchSystemIdle(settings);
  }

  get systemIdleActive(): boolean {
    return this.idleAbort !== undefined;
  }

  private async watchSystemIdle(settings: ContributorSettings): Promise<void> {
    if (!BrowserConditions.idleDetectionAvailable()) return;
    try {
      const permission = await navigator.permissions.query({ name: 'idle-detection' as PermissionName });
      if (permission.state !== 'granted') return;
      this.idleAbort?.abort();
      const abort = new AbortController();
      const detector = new IdleDetector();
      const read = () => {
        this.signals.systemUser = detector.userState ?? undefined;
        this.signals.screenLocked = detector.screenState === 'locked';
        this.onChange();
      };
      detector.addEventListener('change', read);
      this.idleThresholdMs = Math.max(60_000, settings.idleMinutes * 60_000); // the API's minimum is one minute
      await detector.start({ threshold: this.idleThresholdMs, signal: abort.signal });
      this.idleAbort = abort;
      read();
    } catch {
      // Not granted or not supported: page input alone decides.
    }
  }

  private async watchBattery(): Promise<void> {
    const getBattery = (navigator as Navigator & { getBattery?: () => Promise<BatteryManager> }).getBattery;
    if (typeof getBattery !== 'function') return;
    try {
      const battery = await getBattery.call(navigator);
      const read = () => {
        this.signals.onBattery = !battery.charging;
        this.onChange();
      };
      battery.addEventListener('chargingchange', read);
      read();
    } catch {
      // No battery information: never paused for it.
    }
  }

  private async watchPressure(): Promise<void> {
    if (typeof PressureObserver !== 'function') return;
    try {
      const observer = new PressureObserver((records) => {
        const last = records[records.length - 1];
        if (!last || last.state === this.signals.pressure) return;
        this.signals.pressure = last.state;
        this.onChange();
      });
      await observer.observe('cpu', { sampleInterval: 1_000 });
    } catch {
      // Compute Pressure not available here.
    }
  }
}
