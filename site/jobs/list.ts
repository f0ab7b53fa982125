// The jobs page (`/jobs`): every job, newest first, with status and progress; refreshed every few seconds.
import type { JobSummary } from '../../protocol/index.js';
import { errorText, jobsApi } from '../shared/api.js';
import { byId, h, setText } from '../shared/dom.js';
import { formatAgo } from '../shared/format.js';
import { onApiKeyChange } from '../shared/api-key.js';
import { mountApiKeyControl } from '../shared/key-form.js';
import { progressBar } from './progress-bar.js';
import { finishedCount } from './progress.js';
import { isReplicated } from './verification.js';

const REFRESH_MS = 3_000;
const body = byId<HTMLTableSectionElement>('jobs-body');
const errorBox = byId('jobs-error');

function row(job: JobSummary, now: number): HTMLTableRowElement {
  const finished = finishedCount(job);
  return h(
    'tr',
    { 'data-testid': 'job-row', 'data-job-id': job.id },
    h('td', {}, h('a', { href: jobsApi.pageUrl(job.id), class: 'job-link' }, job.name), job.description ? h('div', { class: 'hint clamp' }, job.description) : null),
    h('td', {}, h('span', { class: `badge badge-${job.status}` }, job.status)),
    h(
      'td',
      { class: 'progress-cell' },
      progressBar(job, `${job.name}: ${finished} of ${job.total} chunks finished`),
      h('span', { class: 'hint' }, `${finished.toLocaleString()} / ${job.total.toLocaleString()}`, job.failed > 0 ? ` · ${job.failed.toLocaleString()} failed` : ''),
      isReplicated(job.verification)
        ? h('span', { class: 'hint', 'data-testid': 'job-row-verified' }, ` · verified ${job.verified.toLocaleString()}/${job.total.toLocaleString()}`)
        : null,
    ),
    h('td', {}, h('time', { datetime: job.createdAt, title: new Date(job.createdAt).toLocaleString() }, formatAgo(job.createdAt, now))),
  );
}

let timer: ReturnType<typeof setTimeout> | undefined;

async function refresh(): Promise<void> {
  clearTimeout(timer);
  try {
    const jobs = await jobsApi.list();
    const now = Date.now();
    body.replaceChildren(...jobs.map((job) => row(job, now)));
    byId('jobs-empty').hidden = jobs.length > 0;
    errorBox.hidden = true;
  } catch (error) {
    setText(errorBox, `Could not load jobs: ${errorText(error)}`);
    errorBox.hidden = false;
  } finally {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(), document.hidden ? REFRESH_MS * 5 : REFRESH_MS);
  }
}

document.addEventListener('visibilitychange', () => {
  // Catch up at once when the tab comes back instead of waiting for a slow background timer.
  if (!document.hidden) // Private jobs are listed only with their owner's key: list again as soon as the key changes.
mountApiKeyControl();
onApiKeyChange(() => void refresh());
void refresh();
});

// Private jobs are listed only with their owner's key: list again as soon as the key changes.
mountApiKeyControl();
onApiKeyChange(() => void refresh());
void refresh();
