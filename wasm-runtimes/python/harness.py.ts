// The Python half of PythonRuntime: a module loaded once into Pyodide that prepares jobs (compile, pick the mode)
// and runs chunks, turning every outcome into a plain tuple so nothing Python-specific crosses into JavaScript.
// Kept as a string (not a .py file) so Vite, vitest and tsx all load it without a raw-import plugin.

export const HARNESS_MODULE = 'idle_sense_harness';

export const HARNESS_SOURCE = String.raw`
"""idle-sense chunk harness. Everything here runs inside Pyodide; see python-runtime.ts for the JavaScript half."""
import ast
import builtins
import io
import json
import linecache
import os
import shutil
import signal
import sys
import traceback
import types

FILENAME = "main.py"
WORK = "/work"
OUT = WORK + "/out"
MAX_JOBS = 8  # prepared jobs kept per worker; the oldest is forgotten first


class _BytesSink:
    """sys.stdout.buffer for scripts that write bytes."""

    def __init__(self, text):
        self._text = text

    def write(self, data):
        self._text.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self):
        pass


class CappedText(io.TextIOBase):
    """A text stream keeping at most cap UTF-8 bytes per chunk; the rest is only counted."""

    def __init__(self, name):
        self.name = name
        self.reset(1 << 20)

    def reset(self, cap):
        self._cap = cap
        self._parts = []
        self._size = 0
        self._dropped = 0

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        n = len(s) if s.isascii() else len(s.encode("utf-8", "surrogatepass"))
        room = self._cap - self._size
        if n <= room:
            self._parts.append(s)
            self._size += n
        elif room > 0:
            head = s.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore")
            kept = len(head.encode("utf-8", "surrogatepass"))
            self._parts.append(head)
            self._size += kept
            self._dropped += n - kept
        else:
            self._dropped += n
        return len(s)

    def getvalue(self):
        text = "".join(self._parts)
        if self._dropped:
            text += f"\n[... output truncated: {self._dropped} more bytes ...]\n"
        return text

    # Enough of the TextIOWrapper surface for real scripts (logging, argparse, print(flush=True), reconfigure).
    encoding = "utf-8"
    errors = "strict"
    newlines = None
    line_buffering = False

    @property
    def buffer(self):
        return _BytesSink(self)

    def writable(self):
        return True

    def isatty(self):
        return False

    def flush(self):
        pass

    def close(self):
        pass  # a script closing sys.stdout must not break the next chunk

    def reconfigure(self, **_):
        pass


stdout = CappedText("<stdout>")
stderr = CappedText("<stderr>")


class _Job:
    __slots__ = ("code", "cache_entry", "entry", "module", "fn")


class _EntryError(Exception):
    pass


class _NotJson(Exception):
    pass


_jobs = {}


def _takes_one_positional(fn):
    a = fn.args
    return (
        len(a.posonlyargs) + len(a.args) == 1
        and not a.defaults
        and a.vararg is None
        and all(d is not None for d in a.kw_defaults)
    )


def detect_entry(tree):
    """'main' when the module defines a top-level main that takes exactly one required positional argument."""
    last = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "main":
            last = node
    return "main" if last is not None and _takes_one_positional(last) else None


def prepare(job_id, source, entry):
    """Compiles a job's script once per worker. Returns None, or the formatted SyntaxError."""
    try:
        tree = ast.parse(source, FILENAME)
        code = compile(tree, FILENAME, "exec")
    except (SyntaxError, ValueError) as e:
        return "".join(traceback.format_exception_only(e)).rstrip("\n")
    job = _Job()
    job.code = code
    job.cache_entry = (len(source), None, source.splitlines(True), FILENAME)
    job.entry = entry or detect_entry(tree)
    job.module = None
    job.fn = None
    _jobs[job_id] = job
    while len(_jobs) > MAX_JOBS:
        del _jobs[next(iter(_jobs))]
    return None


def _new_module(name):
    module = types.ModuleType(name)
    module.__file__ = FILENAME
    module.__builtins__ = builtins
    return module


def _type_name(value):
    t = type(value)
    if t.__module__ in ("builtins", "main", "__main__"):
        return t.__qualname__
    return f"{t.__module__}.{t.__qualname__}"


def _reject(value):
    raise _NotJson(_type_name(value))


def _user_traceback(e):
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != FILENAME:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(e), e, tb)).rstrip("\n")


def _result(ok, failure, error, output_json, script_mode):
    out = stdout.getvalue()
    if ok and script_mode:
        # In script mode stdout *is* the output; it is not sent twice.
        return (True, None, None, json.dumps(out), "", stderr.getvalue())
    return (ok, failure, error, output_json, out, stderr.getvalue())


def _call(job, value):
    if job.fn is None:
        module = _new_module("main")
        sys.modules["main"] = module
        sys.argv = [FILENAME]
        exec(job.code, module.__dict__)
        fn = module.__dict__.get(job.entry)
        if fn is None:
            raise _EntryError(f"NameError: entry function {job.entry!r} is not defined in {FILENAME}")
        if not callable(fn):
            raise _EntryError(f"TypeError: entry {job.entry!r} in {FILENAME} is not a function (it is {_type_name(fn)})")
        job.module, job.fn = module, fn
    sys.modules["main"] = job.module
    sys.argv = [FILENAME]
    result = job.fn(value)
    try:
        output = json.dumps(result, allow_nan=False, default=_reject)
    except _NotJson as e:
        return _result(False, "output", f"return value of {job.entry}() is not JSON-serialisable: {e}", None, False)
    except (TypeError, ValueError, RecursionError) as e:
        return _result(False, "output", f"return value of {job.entry}() is not JSON-serialisable: {e}", None, False)
    return _result(True, None, None, output, False)


def _script(job, value, argv):
    module = _new_module("__main__")
    module.INPUT = value
    sys.argv = [FILENAME, *argv]
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    try:
        exec(job.code, module.__dict__)
    finally:
        sys.modules["__main__"] = saved
    return _result(True, None, None, None, True)


def _exit(job, e):
    code = e.code
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = int(code)
    else:
        print(code, file=stderr)  # what CPython does with sys.exit("message")
        status = 1
    if status == 0:
        return _result(True, None, None, "null", job.entry is None)
    err = stderr.getvalue()
    return _result(False, "exception", f"exited with status {status}" + (f"\n{err.rstrip()}" if err else ""), None, False)


def enter_workspace():
    os.makedirs(OUT, exist_ok=True)
    os.chdir(WORK)


def leave_workspace():
    """Leaves /work; returns [(name relative to /work/out, size)] of the regular files under /work/out."""
    os.chdir("/")
    files = []
    if os.path.isdir(OUT) and not os.path.islink(OUT):
        for root, dirs, names in os.walk(OUT):
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
            for name in names:
                path = os.path.join(root, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    files.append((os.path.relpath(path, OUT), os.path.getsize(path)))
    files.sort()
    return files


def clear_workspace():
    """Empties an in-memory /work after its chunk."""
    for name in os.listdir(WORK):
        path = os.path.join(WORK, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)


def run_chunk(job_id, input_json, argv_json, cap):
    """Runs one chunk. Returns None for a job not prepared in this worker, else
    (ok, failure, error, output_json, stdout, stderr)."""
    job = _jobs.get(job_id)
    if job is None:
        return None
    stdout.reset(cap)
    stderr.reset(cap)
    sys.stdout, sys.stderr, sys.stdin = stdout, stderr, io.StringIO("")
    sys.__stdout__, sys.__stderr__, sys.__stdin__ = stdout, stderr, sys.stdin
    linecache.cache[FILENAME] = job.cache_entry
    # A previous chunk may have replaced the handler that stops a chunk (SIGINT). Pause and the CPU limit need no
    # handler: they block inside the interrupt-buffer poll (wasm-runtimes/control.ts).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        value = json.loads(input_json)
        if job.entry:
            return _call(job, value)
        return _script(job, value, json.loads(argv_json))
    except KeyboardInterrupt:
        return _result(False, "timeout", "interrupted", None, False)
    except SystemExit as e:
        return _exit(job, e)
    except _EntryError as e:
        return _result(False, "exception", str(e), None, False)
    except BaseException as e:
        return _result(False, "exception", _user_traceback(e), None, False)
`;
