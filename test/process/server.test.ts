// The real entry point as a child process: start-up validation, serving over HTTP, graceful SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATABASE_URL, KEYS } from '../helpers/app.ts';
import { freePort } from '../helpers/processes.ts';

const root = path.resolve(import.meta.dirname, '../..');
const entry = ['--import', 'tsx', path.join(root, 'src/server.ts')];
const baseEnv = { PATH: process.env.PATH ?? '', DATABASE_URL, LOG_LEVEL: 'info' };

test('a bad setting stops start-up with one line naming it', () => {
  const run = spawnSync(process.execPath, entry, {
    env: { ...baseEnv, PORT: 'eighty' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 1);
  assert.equal(run.stderr.trim().split('\n').length, 1);
  assert.match(run.stderr, /PORT must be an integer/);
});

test('production refuses to start without APP_API_KEY(S)', () => {
  const run = spawnSync(process.execPath, entry, {
    env: { ...baseEnv, NODE_ENV: 'production' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /APP_API_KEY, APP_API_KEYS or APP_KEYS_FILE must be set/);
});

test('the server charges over real HTTP and exits 0 on SIGTERM after finishing', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, entry, {
    env: { ...baseEnv, PORT: String(port), HOST: '127.0.0.1', APP_ADMIN_API_KEYS: `ops:${KEYS.admin}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = once(child, 'exit');
  try {
    await new Promise<void>((resolve, reject) => {
      const check = (): void => void (output.includes('Server listening') && resolve());
      child.stdout.on('data', check);
      child.on('exit', () => reject(new Error(`server exited: ${output}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const headers = { 'x-api-key': KEYS.admin, 'content-type': 'application/json' };
    const user = await (
      await fetch(`${base}/users`, { method: 'POST', headers, body: '{"balances":{"USD":5}}' })
    ).json();
    const charged = await fetch(`${base}/charge`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': `sigterm-${port}` },
      body: JSON.stringify({ user_id: user.id, amount: 1, currency: 'USD' }),
    });
    assert.equal(charged.status, 200);
    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0);
    assert.match(output, /shutting down/);
    assert.ok(!output.includes(KEYS.admin), 'the key never appears in the output');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
