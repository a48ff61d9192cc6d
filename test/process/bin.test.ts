// `picopay` (bin/picopay.mjs) as operators run it: the compiled server from dist/ (built when missing or stale), and
// the child's exit status passed on, 128 + n for a child ended by signal n.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATABASE_URL, KEYS } from '../helpers/app.ts';
import { freePort } from '../helpers/processes.ts';

const root = path.resolve(import.meta.dirname, '../..');

/** Starts `picopay serve`, resolves once the compiled server listens, with the server's own pid. */
async function serve(): Promise<{ bin: ReturnType<typeof spawn>; serverPid: number; output: () => string }> {
  const port = await freePort();
  const bin = spawn(process.execPath, [path.join(root, 'bin/picopay.mjs'), 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      APP_ADMIN_API_KEYS: `ops:${KEYS.admin}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  bin.stdout.on('data', (c: Buffer) => (output += c.toString()));
  bin.stderr.on('data', (c: Buffer) => (output += c.toString()));
  await new Promise<void>((resolve, reject) => {
    bin.stderr.on('data', () => output.includes('picopay: listening on') && resolve());
    bin.on('exit', () => reject(new Error(`picopay serve exited: ${output}`)));
  });
  const children = readFileSync(`/proc/${bin.pid}/task/${bin.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  assert.equal(children.length, 1, 'one server process under picopay');
  return { bin, serverPid: children[0]!, output: () => output };
}

test(
  'picopay serve runs the compiled dist/server.js and exits 0 after a SIGTERM it passes on',
  { timeout: 180_000 },
  async () => {
    const { bin, serverPid, output } = await serve();
    try {
      assert.ok(existsSync(path.join(root, 'dist/server.js')), 'dist/ was built');
      const cmdline = readFileSync(`/proc/${serverPid}/cmdline`, 'utf8').split('\0');
      assert.ok(
        cmdline.some((arg) => arg.endsWith(path.join('dist', 'server.js'))),
        cmdline.join(' '),
      );
      assert.ok(!cmdline.some((arg) => arg.includes('tsx')), 'no TypeScript runner in the server process');
      const exited = once(bin, 'exit');
      bin.kill('SIGTERM');
      assert.deepEqual(await exited, [0, null], output());
    } finally {
      if (bin.exitCode === null) bin.kill('SIGKILL');
    }
  },
);

test('picopay exits 128 + n when its child dies of signal n (137 for SIGKILL)', { timeout: 180_000 }, async () => {
  const { bin, serverPid } = await serve();
  try {
    const exited = once(bin, 'exit');
    process.kill(serverPid, 'SIGKILL');
    assert.deepEqual(await exited, [137, null]);
  } finally {
    if (bin.exitCode === null) bin.kill('SIGKILL');
  }
});
