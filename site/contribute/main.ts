// The contribute page (`/`): wires the Start/Stop controls and the live thread/total display to a Contributor.
import { byId, h, setText } from '../shared/dom.js';
import { formatDuration, plural } from '../shared/format.js';
import { ContributorClient } from './coordinator-client.js';
import { Contributor, describeCoordinator, describeThread, type ContributorSnapshot } from './contributor.js';
import { browserIdentityStore } from './identity.js';
import { browserRuntimeOptions, createBrowserThread } from './threads.js';

const THREADS_KEY = 'idle-sense.threads';

const startButton = byId<HTMLButtonElement>('start-button');
const stopButton = byId<HTMLButtonElement>('stop-button');
const threadsInput = byId<HTMLInputElement>('threads-input');
const threadList = byId<HTMLOListElement>('thread-list');
const coordinatorStatus = byId('coordinator-status');
const sessionState = byId('session-state');

const cores = navigator.hardwareConcurrency || 2;
const defaultThreads = Math.max(1, cores - 1);
threadsInput.max = String(Math.max(cores, 1) * 2);
threadsInput.value = localStorage.getItem(THREADS_KEY) ?? String(defaultThreads);
setText(byId('cores-hint'), `This computer reports ${plural(cores, 'logical core')}; the default leaves one free for you.`);

if (!crossOriginIsolated) byId('isolation-warning').hidden = false;

const contributor = new Contributor({
  api: new ContributorClient((input, init) => fetch(input, init), browserIdentityStore(), navigator.userAgent),
  createThread: createBrowserThread,
  runtimeOptions: browserRuntimeOptions,
  onChange: scheduleRender,
});

startButton.addEventListener('click', () => {
  const count = readThreadCount();
  if (count === undefined) {
    threadsInput.setCustomValidity('Enter a whole number of threads, at least 1.');
    threadsInput.reportValidity();
    return;
  }
  threadsInput.setCustomValidity('');
  localStorage.setItem(THREADS_KEY, String(count));
  contributor.start(count);
});
stopButton.addEventListener('click', () => void contributor.stop());
threadsInput.addEventListener('input', () => threadsInput.setCustomValidity(''));
window.addEventListener('pagehide', () => contributor.dispose());

function readThreadCount(): number | undefined {
  const value = Number(threadsInput.value);
  return Number.isInteger(value) && value >= 1 && value <= 256 ? value : undefined;
}

let renderQueued = false;
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(() => {
    renderQueued = false;
    render(contributor.snapshot());
  }, 30);
}
// Countdowns ("retrying in 7s") tick even when nothing else changes.
setInterval(scheduleRender, 1000);

function render(snapshot: ContributorSnapshot): void {
  const running = snapshot.state === 'running';
  startButton.disabled = running || snapshot.state === 'stopping';
  stopButton.disabled = !running;
  threadsInput.disabled = running;
  setText(sessionState, { running: 'Contributing', stopping: 'Stopping…', stopped: 'Stopped' }[snapshot.state]);
  sessionState.dataset.state = snapshot.state;
  setText(coordinatorStatus, describeCoordinator(snapshot.coordinator, Date.now()));
  coordinatorStatus.dataset.state = snapshot.coordinator.state;

  const { totals } = snapshot;
  // Plain digits (no thousands separators): scripts and tests read these numbers back.
  setText(byId('total-done'), String(totals.done));
  setText(byId('total-errors'), String(totals.errors));
  setText(byId('total-cpu'), formatDuration(totals.cpuMs));
  const notes = [
    snapshot.unreported > 0 ? `${plural(snapshot.unreported, 'result')} waiting to be sent` : '',
    totals.rejected > 0 ? `${plural(totals.rejected, 'result')} not accepted (lease expired or job cancelled)` : '',
  ].filter(Boolean);
  setText(byId('totals-note'), notes.join(' · '));

  while (threadList.children.length > snapshot.threads.length) threadList.lastElementChild!.remove();
  snapshot.threads.forEach((view, i) => {
    let item = threadList.children[i] as HTMLLIElement | undefined;
    if (!item) {
      item = h('li', { class: 'thread' }, h('span', { class: 'thread-name' }, `Thread ${i + 1}`), h('span', { class: 'thread-status', 'data-testid': 'thread-status' }));
      threadList.append(item);
    }
    const status = item.querySelector<HTMLElement>('.thread-status')!;
    setText(status, describeThread(view));
    item.dataset.phase = view.phase;
  });
  byId('threads-empty').hidden = snapshot.threads.length > 0;
}

render(contributor.snapshot());
