// The job page (`/jobs/:id`): status, progress, throughput and ETA, results, the job's error, downloads and Cancel,
// kept live over SSE (or polling).
import type { JobSummary } from '../../protocol/index.js';
import { errorText, jobsApi } from '../shared/api.js';
import { byId, setText } from '../shared/dom.js';
import { formatAgo, formatDuration, formatRate, plural } from '../shared/format.js';
import { watchJob } from './live.js';
import { updateProgressBar } from './progress-bar.js';
import { averageRate, etaMs, finishedCount, isActive, jobIdFrom, ThroughputMeter } from './progress.js';
import { ResultsTable } from './results-table.js';

const pageError = byId('page-error');
const cancelButton = byId<HTMLButtonElement>('cancel-button');
const meter = new ThroughputMeter();
let job: JobSummary | undefined;

function showPageError(message: string | undefined): void {
  pageError.hidden = message === undefined;
  setText(pageError, message ?? '');
}

function render(): void {
  if (!job) return;
  const now = Date.now();
  document.title = `${job.name} · idle-sense`;
  setText(byId('job-name'), job.name);
  const description = byId('job-description');
  description.hidden = !job.description;
  setText(description, job.description ?? '');

  const status = byId('job-status');
  setText(status, job.status);
  status.className = `badge badge-${job.status}`;
  cancelButton.hidden = !isActive(job.status);

  const finished = finishedCount(job);
  setText(byId('job-progress'), `${finished.toLocaleString()} / ${job.total.toLocaleString()}`);
  updateProgressBar(byId('progress-bar'), job);
  setText(byId('count-completed'), job.completed.toLocaleString());
  setText(byId('count-failed'), job.failed.toLocaleString());
  setText(byId('count-running'), job.running.toLocaleString());
  setText(byId('count-queued'), job.queued.toLocaleString());
  setText(byId('job-rate'), rateLine(job, now));

  const error = byId('job-error');
  error.hidden = !job.error;
  setText(byId('job-error-text'), job.error ?? '');

  const meta = [
    `Submitted ${formatAgo(job.createdAt, now)}`,
    `timeout ${formatDuration(job.timeoutMs)} per chunk`,
    `up to ${plural(job.maxAttempts, 'attempt')} per chunk`,
    job.entry ? `entry ${job.entry}()` : '',
    job.finishedAt ? `finished after ${formatDuration(Date.parse(job.finishedAt) - Date.parse(job.createdAt))}` : '',
  ].filter(Boolean);
  setText(byId('job-meta'), meta.join(' · '));
}

function rateLine(job: JobSummary, now: number): string {
  if (!isActive(job.status)) {
    const average = averageRate(job, now);
    return average ? `average ${formatRate(average)}` : '';
  }
  const rate = meter.rate(now);
  if (rate === undefined) return job.running > 0 ? 'measuring throughput…' : 'waiting for contributors…';
  if (rate === 0) return job.running > 0 ? '0 chunks/s — chunks are running' : 'stalled — waiting for contributors';
  const eta = etaMs(job.total - finishedCount(job), rate);
  return `${formatRate(rate)}${eta === undefined ? '' : ` · about ${formatDuration(eta)} left`}`;
}

function update(next: JobSummary): void {
  const grew = !job || finishedCount(next) !== finishedCount(job);
  job = next;
  meter.observe(Date.now(), finishedCount(next));
  render();
  if (grew) results?.chunksFinished();
}

let results: ResultsTable | undefined;

async function main(): Promise<void> {
  const id = jobIdFrom(location);
  if (!id) {
    showPageError('No job id in the address. Open a job from the jobs list.');
    return;
  }
  for (const [elementId, format, extension] of [
    ['download-ndjson', undefined, 'ndjson'],
    ['download-json', 'json', 'json'],
    ['download-csv', 'csv', 'csv'],
  ] as const) {
    const link = byId<HTMLAnchorElement>(elementId);
    link.href = jobsApi.resultsUrl(id, format);
    link.download = `job-${id}-results.${extension}`;
  }

  try {
    update(await jobsApi.get(id));
  } catch (error) {
    showPageError(errorText(error));
    return;
  }

  results = new ResultsTable(id, {
    body: byId<HTMLTableSectionElement>('results-body'),
    empty: byId('results-empty'),
    prev: byId<HTMLButtonElement>('prev-page'),
    next: byId<HTMLButtonElement>('next-page'),
    info: byId('page-info'),
  });
  void results.load();

  // The script is fetched the first time someone opens it.
  const sourceBox = byId('job-source');
  const details = sourceBox.closest('details')!;
  details.addEventListener('toggle', async () => {
    if (!details.open || sourceBox.dataset.loaded) return;
    sourceBox.dataset.loaded = 'yes';
    try {
      const job = await jobsApi.source(id);
      setText(sourceBox, 'source' in job ? job.source : JSON.stringify(job, null, 2));
    } catch (error) {
      delete sourceBox.dataset.loaded;
      setText(sourceBox, `Could not load the script: ${errorText(error)}`);
    }
  });

  cancelButton.addEventListener('click', async () => {
    cancelButton.disabled = true;
    try {
      update(await jobsApi.cancel(id));
    } catch (error) {
      showPageError(`Could not cancel: ${errorText(error)}`);
    } finally {
      cancelButton.disabled = false;
    }
  });

  if (job && isActive(job.status)) {
    const stop = watchJob(id, {
      progress: update,
      chunks: (finished) => results?.chunksFinished(finished.map((r) => r.index)),
      end: (final) => {
        update(final);
        void results?.load();
        stop();
        clearInterval(ticker);
      },
      problem: showPageError,
    });
    // Throughput must fall when nothing arrives, and the ETA counts down: re-measure every second.
    const ticker = setInterval(() => {
      if (job) update(job);
    }, 1000);
  }
}

void main();
