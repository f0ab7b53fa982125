// The sandbox self-check: before a tab runs any job, it starts a probe worker (sandbox-probe.worker.ts) that is
// served with the runtime worker's Content-Security-Policy but has no in-worker lockdown, and learns whether this
// browser enforces that CSP. The CSP is the second wall around user code; a browser that does not enforce it must not
// run jobs, however good the first wall (lockdown.ts) is.

/** One way out the probe tried. `refused`: the browser blocked it (EvalError, or a CSP violation for that URL). */
export interface SandboxCheck {
  name: string;
  refused: boolean;
  detail: string;
}

export interface SandboxProbeReport {
  checks: SandboxCheck[];
  /** Time the probe worker spent on its checks. */
  ms: number;
}

export interface SandboxVerdict extends SandboxProbeReport {
  ok: boolean;
  /** Why jobs must not run here, naming every check the browser allowed; empty when ok. */
  problem: string;
  /** Wall-clock time from starting the probe worker to its answer (includes loading its script). */
  totalMs: number;
}

/**
 * Another origin that never answers: `.invalid` cannot resolve (RFC 2606), so even a browser that ignores the CSP
 * sends nothing to anyone but its resolver. Same scheme as the page, so mixed-content blocking cannot stand in for
 * the CSP.
 */
export function defaultProbeTarget(pageUrl: string): string {
  return `${new URL(pageUrl).protocol}//sandbox-probe.idle-sense.invalid`;
}

/** Starts the probe worker, waits for its report (at most `timeoutMs`), and decides whether jobs may run. */
export async function runSandboxProbe(target: string, timeoutMs = 10_000): Promise<SandboxVerdict> {
  const started = performance.now();
  const worker = new Worker(new URL('./sandbox-probe.worker.ts', import.meta.url), { name: 'idle-sense sandbox probe' });
  try {
    const report = await new Promise<SandboxProbeReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the sandbox check did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
      worker.addEventListener('message', (event: MessageEvent<SandboxProbeReport>) => {
        clearTimeout(timer);
        resolve(event.data);
      });
      worker.addEventListener('error', (event) => {
        clearTimeout(timer);
        reject(new Error(`the sandbox check's worker failed: ${event.message || 'it could not be loaded'}`));
      });
      worker.postMessage({ target });
    });
    return { ...verdict(report), totalMs: performance.now() - started };
  } catch (err) {
    const problem = err instanceof Error ? err.message : String(err);
    return { ok: false, problem, checks: [], ms: 0, totalMs: performance.now() - started };
  } finally {
    worker.terminate();
  }
}

/** ok only when every check was refused. */
export function verdict(report: SandboxProbeReport): SandboxProbeReport & { ok: boolean; problem: string } {
  const allowed = report.checks.filter((check) => !check.refused).map((check) => check.name);
  const ok = report.checks.length > 0 && allowed.length === 0;
  const problem = ok
    ? ''
    : `this browser does not enforce the sandbox's Content-Security-Policy (it allowed ${allowed.join(', ') || 'every check'} in a test worker), so it cannot run other people's code safely. Try an up-to-date Chrome, Edge or Firefox.`;
  return { ...report, ok, problem };
}
