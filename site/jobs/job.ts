// The job page (`/jobs/:id`): status, progress, throughput and ETA, verification, results with each chunk's details
// (every result it received), the job's error, downloads and Cancel, kept live over SSE (or polling). With --auth keys
// a private job is shown only with its owner's key (or an admin key), asked for once and kept in the browser.
import { ErrorCode, type JobSummary } from '../../protocol/index.js';
import { onApiKeyChange, rememberApiKey, storedApiKey } from '../shared/api-key.js';
import { ApiError, errorFromResponse, errorText, jobsApi, keyedFetch } from '../shared/api.js';
import { byId, h, setText } from '../shared/dom.js';
import { askForApiKey, mountApiKeyControl } from '../shared/key-form.js';
import { formatAgo, formatCount, formatDuration, formatRate, plural } from '../shared/format.js';
import { ChunkDetailView } from './chunk-detail.js';
import { watchJob } from './live.js';
import { updateProgressBar } from './progress-bar.js';
import { averageRate, etaMs, finishedCount, isActive, jobIdFrom, ThroughputMeter } from './progress.js';
import { ResultsTable } from './results-table.js';
import { isReplicated, policyText, resultsPerVerified, verifiedText } from './verification.js';

const pageError = byId('page-error');
const cancelButton = byId<HTMLButtonElement>('cancel-button');
const meter = new ThroughputMeter();
let job: JobSummary | undefined;

function showPageError(message: string | undefined): void {
  pageError.hidden = message === undefined;
  setText(pageError, message ?? '');
}

/** The page's error for a job it could not load; for a refused key, with a button that asks for another one. */
function showRefusal(error: unknown): void {
  showPageError(errorText(error));
  if (!(error instanceof ApiError) || (error.code !== ErrorCode.ApiKeyRequired && error.code !== ErrorCode.NotJobOwner)) return;
  const retry = h('button', { type: 'button', class: 'button button-small', 'data-testid': 'enter-key' }, 'Enter a key');
  retry.addEventListener('click', async () => {
    const key = await askForApiKey({ status: error.status === 403 ? 403 : 401, keySent: storedApiKey() !== null });
    if (!key) return;
    rememberApiKey(key);
    location.reload();
  });
  pageError.append(' ', retry);
}

/** Downloads `link`'s results with the stored key (keyedFetch asks for one if needed) and saves them from a Blob. */
async function saveWithKey(link: HTMLAnchorElement): Promise<void> {
  link.setAttribute('aria-busy', 'true');
  try {
    const response = await keyedFetch(link.href);
    if (!response.ok) throw errorFromResponse(response.status, await response.text().catch(() => ''));
    const url = URL.createObjectURL(await response.blob());
    const save = h('a', { href: url, download: link.download, hidden: true });
    document.body.append(save);
    save.click();
    save.remove();
    // The download has its own copy once it starts; the Blob can go soon after.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    showPageError(undefined);
  } catch (error) {
    showPageError(`Could not download the results: ${errorText(error)}`);
  } finally {
    link.removeAttribute('aria-busy');
  }
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
  renderVerification(job);
}

function renderVerification(job: JobSummary): void {
  const replicated = isReplicated(job.verification);
  setText(byId('job-verified'), replicated ? verifiedText(job) : 'unverified');
  setText(byId('verification-policy'), policyText(job.verification));
  byId('verification-counts').hidden = !replicated;
  setText(byId('count-valid'), formatCount(job.valid));
  setText(byId('count-invalid'), formatCount(job.invalid));
  setText(byId('count-inconclusive'), formatCount(job.inconclusive));
  setText(byId('count-issued'), formatCount(job.resultsIssued));
  const ratio = resultsPerVerified(job);
  byId('ratio-item').hidden = ratio === undefined;
  setText(byId('results-ratio'), ratio ?? '');
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
  // The ticker re-renders the same summary every second; only real news may reload the open chunk.
  const news = !job || JSON.stringify(next) !== JSON.stringify(job);
  job = next;
  meter.observe(Date.now(), finishedCount(next));
  render();
  if (grew) results?.chunksFinished();
  if (news) detail?.changed();
}

let results: ResultsTable | undefined;
let detail: ChunkDetailView | undefined;

/** Opens the chunk detail view from a row's Details button, or from a click anywhere else on the row. */
function openChunkFromClick(event: MouseEvent): void {
  const target = event.target as Element;
  const button = target.closest<HTMLElement>('[data-chunk-detail]');
  if (button) {
    detail?.open(Number(button.dataset.chunkDetail));
    return;
  }
  // Links, disclosures and text being selected keep their own meaning.
  if (target.closest('a, button, summary, details[open] pre') || getSelection()?.toString()) return;
  const row = target.closest<HTMLElement>('tr[data-index]');
  if (row) detail?.open(Number(row.dataset.index));
}

async function main(): Promise<void> {
  const id = jobIdFrom(location);
  if (!id) {
    showPageError('No job id in the address. Open a job from the jobs list.');
    return;
  }
  mountApiKeyControl();
  try {
    update(await jobsApi.get(id));
  } catch (error) {
    showRefusal(error);
    return;
  }
  // Forgetting the key must not leave a private job on screen: reload, and the coordinator refuses it again.
  onApiKeyChange((key) => {
    if (!key && job?.private) location.reload();
  });

  for (const [elementId, format, extension] of [
    ['download-ndjson', undefined, 'ndjson'],
    ['download-json', 'json', 'json'],
    ['download-csv', 'csv', 'csv'],
  ] as const) {
    const link = byId<HTMLAnchorElement>(elementId);
    link.href = jobsApi.resultsUrl(id, format);
    link.download = `job-${id}-results.${extension}`;
    // A plain link cannot carry the key: a private job's results are fetched with it and saved from a Blob.
    link.addEventListener('click', (event) => {
      if (!job?.private) return;
      event.preventDefault();
      void saveWithKey(link);
    });
  }

  results = new ResultsTable(id, job!.verification, {
    body: byId<HTMLTableSectionElement>('results-body'),
    empty: byId('results-empty'),
    prev: byId<HTMLButtonElement>('prev-page'),
    next: byId<HTMLButtonElement>('next-page'),
    info: byId('page-info'),
  });
  void results.load();

  detail = new ChunkDetailView(id, job!.verification, {
    dialog: byId<HTMLDialogElement>('chunk-detail'),
    title: byId('chunk-detail-title'),
    body: byId('chunk-detail-body'),
    close: byId<HTMLButtonElement>('chunk-detail-close'),
  });
  byId('results-body').addEventListener('click', openChunkFromClick);
  // `/jobs/<id>#chunk-7` opens with chunk 7's details (the address the dialog shows while open).
  const openLinkedChunk = () => {
    const linked = /^#chunk-(\d+)$/.exec(location.hash);
    if (linked && Number(linked[1]) < job!.total) detail?.open(Number(linked[1]));
  };
  window.addEventListener('hashchange', openLinkedChunk);
  openLinkedChunk();

  // The script is fetched the first time someone opens it.
  const sourceBox = byId('job-source');
  const details = sourceBox.closest('details')!;
  details.addEventListener('toggle', async () => {
    if (!details.open || sourceBox.dataset.loaded) return;
    sourceBox.dataset.loaded = 'yes';
    try {
      const job = await jobsApi.source(id);
      // A Python job is its script; the others (an ONNX model, a native command with its files) are shown whole.
      setText(sourceBox, job.runtime === 'python' ? job.source : JSON.stringify(job, null, 2));
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
      chunks: (finished) => {
        const indexes = finished.map((r) => r.index);
        results?.chunksFinished(indexes);
        detail?.changed(indexes);
      },
      end: (final) => {
        update(final);
        void results?.load();
        detail?.refresh();
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
