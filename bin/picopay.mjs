#!/usr/bin/env node
// The `picopay` command: picopay serve | migrate | seed-user | verify | keys. Each runs its TypeScript entry point
// under tsx (resolved from this package, so it works from any directory) with signals passed through.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const COMMANDS = {
  serve: ['../src/server.ts', 'run the HTTP server (WEB_CONCURRENCY workers)'],
  migrate: ['../src/cli/migrate.ts', 'apply pending database migrations'],
  'seed-user': ['../src/cli/seed-user.ts', 'create a funded user and print its id (--balance, --currency, --name)'],
  verify: ['../src/cli/verify.ts', 'check the ledger invariants; exit 2 on a violation'],
  keys: ['../src/cli/keys.ts', 'generate an API key and print its env entry (--client NAME, --admin)'],
};

const [command, ...args] = process.argv.slice(2);
if (command === undefined || !(command in COMMANDS)) {
  const usage = Object.entries(COMMANDS).map(([name, [, help]]) => `  picopay ${name.padEnd(10)} ${help}`);
  process.stderr.write(`usage:\n${usage.join('\n')}\n`);
  process.exit(command === undefined || command === '--help' || command === 'help' ? 0 : 2);
}

const entry = fileURLToPath(new URL(COMMANDS[command][0], import.meta.url));
const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), entry, ...args], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128 + 15)));
