// The bundled examples for the browser: Vite inlines every examples/<slug>/main.py and job.json at build time.
// Node code that also needs the result checks uses load.ts instead.
import { sortExamples, type Example, type ExampleJob } from './example.js';

const sources = import.meta.glob<string>('./*/main.py', { query: '?raw', import: 'default', eager: true });
const jobs = import.meta.glob<ExampleJob>('./*/job.json', { import: 'default', eager: true });

/** `./prime-counting/job.json` -> `prime-counting`. */
const slugOf = (path: string) => path.split('/')[1];

/**
 * Every example, in listing order. A job is ready to post as `{ ...example.job, source: example.source }`.
 *
 * @example
 * const pi = examples.find((example) => example.slug === 'monte-carlo-pi')!;
 * await fetch('/api/jobs', { method: 'POST', body: JSON.stringify({ ...pi.job, source: pi.source }) });
 */
export const examples: Example[] = sortExamples(
  Object.entries(jobs).flatMap(([path, job]) => {
    const slug = slugOf(path);
    const source = sources[`./${slug}/main.py`];
    if (source === undefined) return [];
    return [{ slug, name: job.name ?? slug, description: job.description ?? '', source, job }];
  }),
);
