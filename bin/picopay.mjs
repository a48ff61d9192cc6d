#!/usr/bin/env node
// The `picopay` command: picopay serve | migrate | seed-user | verify | purge | keys | build. Each runs its compiled entry point
// (dist/, built from src/ by tsc) in a child process with signals passed through, and exits as the child did.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './build.mjs';

const COMMANDS = {
  serve: ['server.js', 'run the HTTP server (WEB_CONCURRENCY workers)'],
  migrate: ['cli/migrate.js', 'apply pending database migrations and changed function files'],
  'seed-user': ['cli/seed-user.js', 'create a funded user and print its id (--balance, --currency, --name)'],
  verify: ['cli/verify.js', 'check the ledger invariants; exit 2 on a violation'],
  purge: ['cli/purge.js', 'delete idempotency records older than IDEMPOTENCY_RETENTION, in small batches'],
  keys: ['cli/keys.js', 'generate an API key and print its env entry (--client NAME, --admin)'],
  build: [undefined, 'compile src/ to dist/ now (other commands do it when dist/ is missing or stale)'],
};

const [command, ...args] = process.argv.slice(2);
if (command === undefined || !(command in COMMANDS)) {
  const usage = Object.entries(COMMANDS).map(([name, [, help]]) => `  picopay ${name.padEnd(10)} ${help}`);
  process.stderr.write(`usage:\n${usage.join('\n')}\n`);
  process.exit(command === undefined || command === '--help' || command === 'help' ? 0 : 2);
}

const dist = ensureBuilt({ force: command === 'build' });
if (command === 'build') process.exit(0);
const entry = fileURLToPath(new URL(COMMANDS[command][0], dist));
const child = spawn(process.execPath, ['--enable-source-maps', entry, ...args], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
// The child's own code, or 128 + n for a child ended by signal n (the shell's convention).
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
