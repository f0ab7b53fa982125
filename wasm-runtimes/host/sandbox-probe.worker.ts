// The sandbox self-check's worker: served with the same Content-Security-Policy as the runtime worker but WITHOUT the
// in-worker lockdown, it tries each way out the CSP alone must close and reports what the browser refused. A
// classic worker (no imports), so that `importScripts` is tested as well as `import()`.
// The page runs it before starting threads (sandbox-probe.ts); the CSP is the second wall behind lockdown.
import type { SandboxCheck, SandboxProbeReport } from './sandbox-probe.js';

declare const self: DedicatedWorkerGlobalScope;

/** How long a refused network attempt may take to show its CSP violation. Enforcement reports in a few ms. */
const VIOLATION_GRACE_MS = 1_000;

const violations: SecurityPolicyViolationEvent[] = [];
const waiting = new Set<() => void>();
self.addEventListener('securitypolicyviolation', (event) => {
  violations.push(event as SecurityPolicyViolationEvent);
  for (const wake of waiting) wake();
});

/** Resolves true once a violation whose blocked URL starts with `url` arrives, false after the grace period. */
function violationFor(url: string): Promise<boolean> {
  const matches = () => violations.some((event) => url.startsWith(event.blockedURI) && event.blockedURI.length > 0);
  if (matches()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const wake = () => {
      if (!matches()) return;
      waiting.delete(wake);
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      waiting.delete(wake);
      resolve(matches());
    }, VIOLATION_GRACE_MS);
    waiting.add(wake);
  });
}

/** Runs `attempt` and ignores how it ends: the CSP violation (or its absence) is the answer. */
async function settle(attempt: () => unknown): Promise<string> {
  try {
    await attempt();
    return 'completed';
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
}

/** Waits for the first of `events` on `target` (a connection that failed, closed or opened). */
function firstEvent(target: EventTarget, events: string[]): Promise<string> {
  return new Promise((resolve) => {
    for (const name of events) target.addEventListener(name, () => resolve(name), { once: true });
  });
}

function evalCheck(name: string, run: () => unknown): SandboxCheck {
  try {
    run();
    return { name, refused: false, detail: 'ran' };
  } catch (err) {
    const refused = err instanceof EvalError;
    return { name, refused, detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

async function networkCheck(name: string, url: string, attempt: () => unknown): Promise<SandboxCheck> {
  const outcome = settle(attempt);
  const refused = await violationFor(url);
  return { name, refused, detail: refused ? 'blocked by the Content-Security-Policy' : `not blocked (${await outcome})` };
}

async function probe(target: string): Promise<SandboxProbeReport> {
  const started = performance.now();
  const at = (what: string) => `${target.replace(/\/$/, '')}/idle-sense-probe/${what}`;
  const ws = (what: string) => at(what).replace(/^http/, 'ws');
  const checks: SandboxCheck[] = [
    evalCheck('eval', () => (0, eval)('1 + 1')),
    evalCheck('new Function', () => new Function('return 1')()),
  ];
  const network = await Promise.all([
    networkCheck('importScripts', at('import-scripts.js'), () => self.importScripts(at('import-scripts.js'))),
    networkCheck('import()', at('import.mjs'), () => import(/* @vite-ignore */ at('import.mjs'))),
    networkCheck('FontFace', at('font.woff2'), () => new FontFace('idle-sense-probe', `url(${at('font.woff2')})`).load()),
    networkCheck('fetch', at('fetch'), () => fetch(at('fetch'), { mode: 'no-cors' })),
    networkCheck('XMLHttpRequest', at('xhr'), () => {
      const xhr = new XMLHttpRequest();
      xhr.open('GET', at('xhr'));
      xhr.send();
      return firstEvent(xhr, ['loadend']);
    }),
    networkCheck('WebSocket', ws('websocket'), async () => {
      const socket = new WebSocket(ws('websocket'));
      await firstEvent(socket, ['error', 'close', 'open']);
      socket.close();
    }),
    networkCheck('EventSource', at('event-source'), async () => {
      const source = new EventSource(at('event-source'));
      await firstEvent(source, ['error', 'open']);
      source.close();
    }),
  ]);
  checks.push(...network);
  return { checks, ms: performance.now() - started };
}

self.addEventListener('message', (event: MessageEvent<{ target: string }>) => {
  void probe(event.data.target).then(
    (report) => self.postMessage(report),
    (err: unknown) => self.postMessage({ checks: [{ name: 'probe', refused: false, detail: String(err) }], ms: 0 }),
  );
});
