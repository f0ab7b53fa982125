// Entry point of the headless runner (`npm run runner -- --coordinator URL`, or the `idle-sense-runner` bin): parse
// the flags, start the Runner, and turn SIGINT/SIGTERM into a clean stop (running chunks handed back, finished
// results sent) — a second signal exits at once, leaving unsent results in the state directory for the next start.
import { HELP, parseOptions, UsageError } from './options.js';
import { Runner } from './runner.js';

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`idle-sense-runner: ${err.message}\nRun with --help for the flags.\n`);
  process.exit(2);
}
if (!options) {
  process.stdout.write(HELP + '\n');
  process.exit(0);
}

const runner = new Runner(options);
let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  signals++;
  if (signals > 1) {
    runner.log('exit', { signal, note: 'second signal: exiting now; unsent results stay in the state directory' });
    process.exit(130);
  }
  runner.log('stopping', { signal, note: 'handing running chunks back and sending finished results (again to exit now)' });
  void runner.stop().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`idle-sense-runner: ${err.message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

try {
  await runner.start();
} catch (err) {
  process.stderr.write(`idle-sense-runner: ${(err as Error).message}\n`);
  process.exit(1);
}
