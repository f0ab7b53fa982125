// The contribute page (`/`): wires the controls (persisted settings), the browser's signals (input, battery, CPU
// pressure, storage) and the live display to a Contributor.
import { Contributor, describeCoordinator, describeThread, onProvider, type ContributorSnapshot, type ThreadLimits } from '../../contributor-core/contributor.js';
import { ContributorClient } from '../../contributor-core/coordinator-client.js';
import { defaultProbeTarget, runSandboxProbe, type SandboxVerdict } from '../../wasm-runtimes/host/sandbox-probe.js';
import { byId, h, setText } from '../shared/dom.js';
import { formatDuration, plural } from '../shared/format.js';
import { BrowserConditions, pauseReasons } from './conditions.js';
import { browserHistoryStore } from './history.js';
import { browserIdentityStore } from './identity.js';
import { browserOutbox } from './outbox.js';
import { browserSettingsStore, normalizeSettings, type ContributorSettings } from './settings.js';
import { browserRuntimeOptions, createBrowserThread } from './threads.js';
import { OpfsWorkspaces } from './workspace.js';

const MIB = 1024 * 1024;

const startButton = byId<HTMLButtonElement>('start-button');
const finishButton = byId<HTMLButtonElement>('finish-button');
const stopButton = byId<HTMLButtonElement>('stop-button');
const threadsInput = byId<HTMLInputElement>('threads-input');
const cpuLimitInput = byId<HTMLInputElement>('cpu-limit-input');
const memoryInput = byId<HTMLInputElement>('memory-input');
const recycleInput = byId<HTMLInputElement>('recycle-input');
const idleInput = byId<HTMLInputElement>('idle-input');
const idleMinutesInput = byId<HTMLInputElement>('idle-minutes-input');
const batteryInput = byId<HTMLInputElement>('battery-input');
const heatInput = byId<HTMLInputElement>('heat-input');
const gpuInput = byId<HTMLInputElement>('gpu-input');
const systemIdleButton = byId<HTMLButtonElement>('system-idle-button');
const threadList = byId<HTMLOListElement>('thread-list');
const coordinatorStatus = byId('coordinator-status');
const sessionState = byId('session-state');
const pauseList = byId<HTMLUListElement>('pause-reasons');

const cores = navigator.hardwareConcurrency || 2;
threadsInput.max = String(Math.max(cores, 1) * 2);
setText(byId('cores-hint'), `This computer reports ${plural(cores, 'logical core')}; the default leaves one free for you.`);
if (!crossOriginIsolated) byId('isolation-warning').hidden = false;

const settingsStore = browserSettingsStore(cores);
let settings = await settingsStore.load();
showSettings(settings);

/** Per-chunk attachment limit: what a chunk may write under /work/out/. */
const MAX_OUTPUT_BYTES = 32 * MIB;
const limitsFrom = (s: ContributorSettings): Partial<ThreadLimits> => ({
  cpuLimit: s.cpuLimit,
  recycleAboveBytes: s.memoryCeilingMiB * MIB,
  recycleAfterChunks: s.recycleAfterChunks,
  maxOutputBytes: MAX_OUTPUT_BYTES,
});

const contributor = new Contributor({
  api: new ContributorClient({
    fetch: (input, init) => fetch(input, init),
    identity: browserIdentityStore(),
    agent: navigator.userAgent,
    // What a tab offers: jobs that need a GPU (native CUDA), a container engine or stated memory never come here.
    capabilities: { host: 'tab', runtimes: ['python', 'onnx'], webgpu: 'gpu' in navigator },
  }),
  createThread: createBrowserThread,
  runtimeOptions: browserRuntimeOptions(settings),
  onChange: scheduleRender,
  outbox: browserOutbox(),
  workspaces: await OpfsWorkspaces.open(),
  history: browserHistoryStore(),
  beforeLease: checkStorage,
  limits: limitsFrom(settings),
});
// Test and debugging hook: the page's own state, nothing secret (the token stays in the client), and the sandbox
// check against any target (the e2e points it at a spy server).
(globalThis as { idleSense?: unknown }).idleSense = {
  snapshot: () => contributor.snapshot(),
  sandboxProbe: (target: string) => runSandboxProbe(target),
};

// The sandbox check runs as the page loads; Start waits for it, and a browser that does not enforce the worker CSP
// (the second wall around other people's code) runs no job at all.
let sandboxBlocked = false;
const sandboxCheck: Promise<SandboxVerdict> = runSandboxProbe(defaultProbeTarget(location.href)).then((result) => {
  sandboxBlocked = !result.ok;
  const status = byId('sandbox-status');
  if (result.ok) setText(status, `Sandbox check passed: this browser refused all ${result.checks.length} ways out (${Math.round(result.totalMs)} ms).`);
  else {
    status.hidden = true;
    const error = byId('sandbox-error');
    setText(error, `Contributing is disabled: ${result.problem}`);
    error.hidden = false;
  }
  scheduleRender();
  return result;
});

const conditions = new BrowserConditions(updatePauses);
void conditions.start(settings).then(() => {
  systemIdleButton.hidden = !BrowserConditions.idleDetectionAvailable() || conditions.systemIdleActive;
  byId('system-idle-note').hidden = !conditions.systemIdleActive;
});
void contributor.restore();

/** Before leasing: room in this origin's storage for every thread's workspace and attachments. */
async function checkStorage(): Promise<string | undefined> {
  const estimate = await navigator.storage?.estimate?.().catch(() => undefined);
  if (!estimate?.quota) return undefined;
  const free = estimate.quota - (estimate.usage ?? 0);
  const needed = settings.threads * MAX_OUTPUT_BYTES * 2 + 64 * MIB;
  if (free >= needed) return undefined;
  return `storage almost full: ${Math.floor(free / MIB)} MiB free, ${Math.ceil(needed / MIB)} MiB needed for chunk workspaces`;
}

function updatePauses(): void {
  contributor.setPauseReasons(pauseReasons(settings, conditions.signals, Date.now()).map((reason) => reason.message));
}
// The "resumes after N s without input" countdown moves on even without events.
setInterval(() => {
  if (settings.onlyWhenIdle) updatePauses();
}, 1000);

function showSettings(s: ContributorSettings): void {
  threadsInput.value = String(s.threads);
  cpuLimitInput.value = String(s.cpuLimit);
  memoryInput.value = String(s.memoryCeilingMiB);
  recycleInput.value = String(s.recycleAfterChunks);
  idleInput.checked = s.onlyWhenIdle;
  idleMinutesInput.value = String(s.idleMinutes);
  batteryInput.checked = s.pauseOnBattery;
  heatInput.checked = s.pauseUnderHeat;
  gpuInput.checked = s.useGpu;
}

function readSettings(): ContributorSettings {
  return normalizeSettings(
    {
      threads: threadsInput.value,
      cpuLimit: cpuLimitInput.value,
      memoryCeilingMiB: memoryInput.value,
      recycleAfterChunks: recycleInput.value,
      onlyWhenIdle: idleInput.checked,
      idleMinutes: idleMinutesInput.value,
      pauseOnBattery: batteryInput.checked,
      pauseUnderHeat: heatInput.checked,
      useGpu: gpuInput.checked,
    },
    cores,
  );
}

function applySettings(): void {
  const gpuChanged = readSettings().useGpu !== settings.useGpu;
  settings = readSettings();
  if (gpuChanged) contributor.setRuntimeOptions(browserRuntimeOptions(settings));
  void settingsStore.save(settings);
  contributor.setLimits(limitsFrom(settings));
  void conditions.update(settings);
  updatePauses();
}
for (const input of [cpuLimitInput, memoryInput, recycleInput, idleInput, idleMinutesInput, batteryInput, heatInput, gpuInput]) {
  input.addEventListener('change', applySettings);
}

startButton.addEventListener('click', async () => {
  if (!(await sandboxCheck).ok) return;
  const count = Number(threadsInput.value);
  if (!Number.isInteger(count) || count < 1 || count > 256) {
    threadsInput.setCustomValidity('Enter a whole number of threads, at least 1.');
    threadsInput.reportValidity();
    return;
  }
  threadsInput.setCustomValidity('');
  applySettings();
  contributor.start(settings.threads);
});
finishButton.addEventListener('click', () => contributor.finishThenStop());
stopButton.addEventListener('click', () => void contributor.stop());
threadsInput.addEventListener('input', () => threadsInput.setCustomValidity(''));
systemIdleButton.addEventListener('click', async () => {
  const granted = await conditions.requestSystemIdle(settings);
  systemIdleButton.hidden = granted;
  byId('system-idle-note').hidden = !granted;
});
window.addEventListener('online', () => contributor.nudge());
window.addEventListener('pagehide', () => contributor.dispose());

let renderQueued = false;
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(() => {
    renderQueued = false;
    render(contributor.snapshot());
  }, 30);
}
// Countdowns ("retrying in 7s", "running for 12 s") tick even when nothing else changes.
setInterval(scheduleRender, 1000);

const STATE_TEXT = { running: 'Contributing', finishing: 'Finishing, then stopping', stopping: 'Stopping…', stopped: 'Stopped' };

function render(snapshot: ContributorSnapshot): void {
  const active = snapshot.state === 'running' || snapshot.state === 'finishing';
  const paused = active && snapshot.paused.length > 0;
  startButton.disabled = sandboxBlocked || snapshot.state === 'running' || snapshot.state === 'stopping';
  finishButton.disabled = snapshot.state !== 'running';
  stopButton.disabled = !active;
  threadsInput.disabled = active;
  setText(sessionState, paused ? 'Paused' : STATE_TEXT[snapshot.state]);
  sessionState.dataset.state = paused ? 'paused' : snapshot.state;
  setText(coordinatorStatus, describeCoordinator(snapshot.coordinator, Date.now()));
  coordinatorStatus.dataset.state = snapshot.coordinator.state;
  const reasons = paused ? snapshot.paused : [];
  if (pauseList.textContent !== reasons.join('')) pauseList.replaceChildren(...reasons.map((reason) => h('li', {}, `Paused: ${reason}`)));

  const { totals, lifetime } = snapshot;
  // Plain digits (no thousands separators): scripts and tests read these numbers back.
  setText(byId('total-done'), String(totals.done));
  setText(byId('total-errors'), String(totals.errors));
  setText(byId('total-cpu'), formatDuration(totals.cpuMs));
  setText(byId('lifetime-chunks'), String(lifetime.chunks));
  setText(byId('lifetime-cpu'), formatDuration(lifetime.cpuMs));
  const notes = [
    snapshot.unreported > 0 ? `${plural(snapshot.unreported, 'result')} waiting to be sent` : '',
    totals.rejected > 0 ? `${plural(totals.rejected, 'result')} not accepted (lease expired or job cancelled)` : '',
    totals.givenBack > 0 ? `${plural(totals.givenBack, 'chunk')} given back unfinished (paused)` : '',
  ].filter(Boolean);
  setText(byId('totals-note'), notes.join(' · '));

  while (threadList.children.length > snapshot.threads.length) threadList.lastElementChild!.remove();
  const now = Date.now();
  snapshot.threads.forEach((view, i) => {
    let item = threadList.children[i] as HTMLLIElement | undefined;
    if (!item) {
      item = h(
        'li',
        { class: 'thread', 'data-testid': 'thread' },
        h('span', { class: 'thread-name' }, `Thread ${i + 1}`),
        h(
          'span',
          { class: 'thread-body' },
          h('span', { class: 'thread-status', 'data-testid': 'thread-status' }),
          h('span', { class: 'thread-detail', 'data-testid': 'thread-description' }),
          h('span', { class: 'thread-detail', 'data-testid': 'thread-detail' }),
        ),
      );
      threadList.append(item);
    }
    setText(item.querySelector('[data-testid="thread-status"]')!, describeThread(view));
    setText(item.querySelector('[data-testid="thread-description"]')!, view.phase === 'running' ? (view.jobDescription ?? '') : '');
    const detail = [
      view.startedAt !== undefined && view.phase === 'running' ? `running for ${formatDuration(now - view.startedAt)}${paused ? ' (paused)' : ''}` : '',
      view.executionProvider && view.runtime !== 'onnx' ? `last model${onProvider(view)}` : '',
      view.memoryBytes ? `memory ${Math.round(view.memoryBytes / MIB)} MiB` : '',
      view.recycled ? `restarted ${plural(view.recycled, 'time')}` : '',
    ].filter(Boolean);
    setText(item.querySelector('[data-testid="thread-detail"]')!, detail.join(' · '));
    item.dataset.phase = view.phase;
  });
  byId('threads-empty').hidden = snapshot.threads.length > 0;
}

render(contributor.snapshot());
