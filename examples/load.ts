// Node-only loader of the bundled examples, with their result checks, for tests, e2e and benchmarks.
// The browser gets the same list (without checks) from catalog.ts.
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JobSubmission } from '../protocol/index.js';
import { sortExamples, type CheckedExample, type ExampleCheck, type ExampleJob } from './example.js';

/** The examples/ folder. */
export const EXAMPLES_DIR = dirname(fileURLToPath(import.meta.url));

/**
 * Loads one example: its script, its job (validated as a JobSubmission together with the script) and its check.
 * Throws when a file is missing or job.json is not a valid submission.
 */
export async function loadExample(slug: string, dir: string = EXAMPLES_DIR): Promise<CheckedExample> {
  const folder = join(dir, slug);
  const source = await readFile(join(folder, 'main.py'), 'utf8');
  const job = JSON.parse(await readFile(join(folder, 'job.json'), 'utf8')) as ExampleJob;
  const parsed = JobSubmission.safeParse({ ...job, source });
  if (!parsed.success) throw new Error(`examples/${slug}/job.json is not a valid job: ${parsed.error.message}`);
  const module = (await import(pathToFileURL(join(folder, 'check.ts')).href)) as { check?: ExampleCheck };
  if (typeof module.check !== 'function') throw new Error(`examples/${slug}/check.ts does not export a check function`);
  return { slug, name: job.name ?? slug, description: job.description ?? '', source, job, check: module.check };
}

/** Loads every folder of `dir` that holds a job.json, in listing order (see EXAMPLE_ORDER). */
export async function loadExamples(dir: string = EXAMPLES_DIR): Promise<CheckedExample[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const slugs = entries.filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'job.json'))).map((entry) => entry.name);
  return sortExamples(await Promise.all(slugs.map((slug) => loadExample(slug, dir))));
}
