// The coordinator's syntax check with real Pyodide (the package tabs run): what it refuses, and the mode it detects.
import { afterAll, describe, expect, it } from 'vitest';
import { PythonSyntaxChecker, describeSyntaxError } from './syntax-check.js';

const checker = new PythonSyntaxChecker();
afterAll(() => checker.dispose());

describe('PythonSyntaxChecker', () => {
  it('refuses a script that does not compile, with its line and message', async () => {
    const checked = await checker.check('print(1)\nx = (\n');
    expect(checked).toMatchObject({ ok: false, line: 2, message: "'(' was never closed" });
    expect(describeSyntaxError(checked as Extract<typeof checked, { ok: false }>)).toBe("source: line 2: SyntaxError: '(' was never closed");
  });
  it('refuses what Python 3.14 refuses: bad indentation, null bytes, a return outside a function', async () => {
    expect(await checker.check('\tif 1:\n  x')).toMatchObject({ ok: false, line: 1, text: expect.stringMatching(/IndentationError/) });
    expect(await checker.check('a\0b')).toMatchObject({ ok: false, line: null, message: expect.stringMatching(/null bytes/) });
    expect(await checker.check('return 1')).toMatchObject({ ok: false, line: 1, message: "'return' outside function" });
  });
  it('accepts what compiles, telling function mode from script mode as the tab does', async () => {
    expect(await checker.check('def main(x):\n    return x * 2\n')).toEqual({ ok: true, entry: 'main' });
    expect(await checker.check('import sys\nprint(sys.argv)\n')).toEqual({ ok: true, entry: null });
    expect(await checker.check('def main(x, y):\n    return x\n')).toEqual({ ok: true, entry: null });
    // Syntax only Python 3.10+ knows, and a template string (3.14): the coordinator's Python is the tab's.
    expect(await checker.check('match 1:\n    case 1:\n        pass\nt"x{1}"\n')).toEqual({ ok: true, entry: null });
  });
  it('starts again after being stopped', async () => {
    await checker.dispose();
    expect(await checker.check('x = 1')).toEqual({ ok: true, entry: null });
  });
});
