// worker_threads worker of PythonSyntaxChecker (syntax-check.ts): one warm Pyodide, the same package the tab runs,
// compiling submitted scripts exactly as the tab's harness does. Plain JavaScript so it starts without a TypeScript
// loader. Messages in: {id, source}; out: {id, result} or, once, {ready: true} / {failed: message}.
import { parentPort, workerData } from 'node:worker_threads';
import { loadPyodide } from 'pyodide';

const CHECK = `
import ast
import traceback

def check(source):
    # The same two steps as the harness's prepare(), so both accept and refuse the same scripts.
    try:
        tree = ast.parse(source, FILENAME)
        compile(tree, FILENAME, "exec", dont_inherit=True)
    except SyntaxError as e:
        text = "".join(traceback.format_exception_only(e)).rstrip("\\n")
        return {"ok": False, "line": e.lineno, "column": e.offset, "message": e.msg, "text": text}
    except (ValueError, RecursionError, MemoryError) as e:
        return {"ok": False, "line": None, "column": None, "message": f"{type(e).__name__}: {e}", "text": f"{type(e).__name__}: {e}"}
    return {"ok": True, "entry": detect_entry(tree)}
`;

try {
  const pyodide = await loadPyodide(workerData.indexURL ? { indexURL: workerData.indexURL } : {});
  const namespace = pyodide.toPy({ __name__: workerData.harnessModule });
  pyodide.runPython(workerData.harnessSource, { globals: namespace });
  pyodide.runPython(CHECK, { globals: namespace });
  const check = namespace.get('check');
  parentPort.on('message', ({ id, source }) => {
    const proxy = check(source);
    const result = proxy.toJs({ dict_converter: Object.fromEntries });
    proxy.destroy();
    parentPort.postMessage({ id, result });
  });
  parentPort.postMessage({ ready: true });
} catch (err) {
  parentPort.postMessage({ failed: err instanceof Error ? err.message : String(err) });
}
