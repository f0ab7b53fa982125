// The Python package source a coordinator offers (`--python-packages DIR`): a Pyodide distribution directory
// (pyodide-lock.json plus its wheels) and/or a folder of wheels. It answers two questions: can a job's `packages`
// be provided (checked at submission), and what do contributors fetch (a lock file listing only what is really
// there, served with the wheels at /python-packages/).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode } from '../../../protocol/index.js';
import { ApiError } from '../http/errors.js';

/** One package entry of a Pyodide lock file (the fields Pyodide's loader reads). */
export interface LockPackage {
  name: string;
  version: string;
  file_name: string;
  install_dir: string;
  sha256: string;
  package_type: string;
  imports: string[];
  depends: string[];
  [extra: string]: unknown;
}

export interface Lockfile {
  info: Record<string, unknown>;
  packages: Record<string, LockPackage>;
}

/** PEP 503 normalisation, as Pyodide's lock file keys packages: "My_Pkg.x" → "my-pkg-x". */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** `name-version(-build)?-python-abi-platform.whl` → name and version, or undefined for anything else. */
export function parseWheelName(file: string): { name: string; version: string } | undefined {
  const match = /^([A-Za-z0-9](?:[A-Za-z0-9._]*[A-Za-z0-9])?)-([^-]+)(?:-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$/.exec(file);
  return match ? { name: canonicalName(match[1]), version: match[2] } : undefined;
}

/** Fallback lock `info` (Python and ABI versions) for a folder of wheels without its own lock file. */
const CORE_LOCK = resolve(import.meta.dirname ?? '.', '../../../node_modules/pyodide/pyodide-lock.json');

export class PythonPackages {
  private constructor(
    /** The directory served, for messages and file lookups. */
    readonly dir: string,
    readonly lock: Lockfile,
  ) {}

  /**
   * Scans `dir` once. Lock entries whose wheel is missing are left out (the npm core lists ~350 packages but ships
   * none); wheels not named in the lock are added, hashed, with no dependencies of their own.
   */
  static open(dir: string): PythonPackages {
    const lockPath = join(dir, 'pyodide-lock.json');
    const source: Lockfile | undefined = existsSync(lockPath) ? JSON.parse(readFileSync(lockPath, 'utf8')) : undefined;
    const info = source?.info ?? (existsSync(CORE_LOCK) ? (JSON.parse(readFileSync(CORE_LOCK, 'utf8')) as Lockfile).info : {});
    const packages: Record<string, LockPackage> = {};
    const present = (file: string) => !file.includes('/') && !file.includes('\\') && existsSync(join(dir, file)) && statSync(join(dir, file)).isFile();
    for (const [key, entry] of Object.entries(source?.packages ?? {})) {
      if (present(entry.file_name)) packages[key] = entry;
    }
    const listed = new Set(Object.values(packages).map((entry) => entry.file_name));
    const files = existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith('.whl') && !listed.has(file)) : [];
    for (const file of files.sort()) {
      const wheel = parseWheelName(file);
      if (!wheel || packages[wheel.name]) continue;
      packages[wheel.name] = {
        name: wheel.name,
        version: wheel.version,
        file_name: file,
        install_dir: 'site',
        sha256: createHash('sha256').update(readFileSync(join(dir, file))).digest('hex'),
        package_type: 'package',
        imports: [],
        depends: [],
      };
    }
    // A package whose dependencies are not all here cannot be loaded either.
    let changed = true;
    while (changed) {
      changed = false;
      for (const [key, entry] of Object.entries(packages)) {
        if (entry.depends.every((dep) => packages[dep] ?? packages[canonicalName(dep)])) continue;
        delete packages[key];
        changed = true;
      }
    }
    return new PythonPackages(dir, { info, packages });
  }

  /** The names among `wanted` this source cannot provide (empty when all can be loaded). */
  missing(wanted: readonly string[]): string[] {
    const have = new Set(Object.keys(this.lock.packages).map(canonicalName));
    return wanted.filter((name) => !have.has(canonicalName(name)));
  }

  /** The path of a wheel the lock names, or undefined (nothing else in the directory is ever served). */
  filePath(file: string): string | undefined {
    for (const entry of Object.values(this.lock.packages)) if (entry.file_name === file) return join(this.dir, file);
    return undefined;
  }

  /** Names offered, for messages: "attrs, idlesense-demo". */
  names(): string[] {
    return Object.keys(this.lock.packages).sort();
  }
}

/** The message for a submission asking for packages this coordinator does not have; undefined when all are here. */
export function missingPackagesMessage(packages: PythonPackages, wanted: readonly string[] | undefined): string | undefined {
  const missing = packages.missing(wanted ?? []);
  if (missing.length === 0) return undefined;
  const offered = packages.names();
  const list = missing.map((name) => `"${name}"`).join(', ');
  return (
    `packages: ${list} ${missing.length === 1 ? 'is' : 'are'} not available from this coordinator's package source ` +
    `(${offered.length ? `it offers ${offered.slice(0, 20).join(', ')}${offered.length > 20 ? ', …' : ''}` : 'it offers no packages'}; ` +
    `start the coordinator with --python-packages DIR pointing at a Pyodide distribution or a folder of wheels)`
  );
}

/** Rejects (400 INVALID_REQUEST) a Python job whose `packages` this coordinator cannot provide. */
export function assertPythonPackagesAvailable(packages: PythonPackages, job: { runtime: string; packages?: readonly string[] }): void {
  if (job.runtime !== 'python') return;
  const message = missingPackagesMessage(packages, job.packages);
  if (message) throw new ApiError(ErrorCode.InvalidRequest, message);
}
