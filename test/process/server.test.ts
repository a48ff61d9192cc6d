// The real entry point as a child process: start-up validation (no key on a real database: refused), secrets from
// _FILE variables, serving over HTTP, graceful SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  assert.equal(run.stderr.trim().split('\n').length, 1);
  assert.match(
    run.stderr,
    /APP_API_KEYS or APP_API_KEY \(or its _FILE\), or a non-admin entry of APP_KEYS_FILE, must be set when NODE_ENV=production/,
  );
  assert.equal(run.stdout, '', 'no key printed');
});

// A server on a real database is a deployment: no key means the key secret was not passed, never "mint one".
for (const nodeEnv of [undefined, 'development', 'Production']) {
  test(`with DATABASE_URL and no key, NODE_ENV=${nodeEnv ?? '(unset)'} refuses to start and prints no key`, () => {
    const run = spawnSync(process.execPath, entry, {
      env: { ...baseEnv, ...(nodeEnv === undefined ? {} : { NODE_ENV: nodeEnv }) },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 1);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(
      run.stderr,
      /^picopay: configuration error: no API key: set APP_API_KEYS and\/or APP_ADMIN_API_KEYS \(or their _FILE variants\)/,
    );
    assert.equal(run.stdout, '', 'no key printed');
  });
}

test('keys and DATABASE_URL from _FILE variables start the server; both a variable and its _FILE is refused', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'picopay-server-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, content: string): string => {
    writeFileSync(path.join(dir, name), content, { mode: 0o600 });
    return path.join(dir, name);
  };
  const files = {
    DATABASE_URL: '',
    DATABASE_URL_FILE: write('database-url', `${DATABASE_URL}\n`),
    APP_ADMIN_API_KEYS_FILE: write('admin-keys', `ops:${KEYS.admin}\n`),
  };
  const both = spawnSync(process.execPath, entry, {
    env: { ...baseEnv, ...files, APP_ADMIN_API_KEYS: `ops:${KEYS.admin}` },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(both.status, 1);
  assert.match(both.stderr, /APP_ADMIN_API_KEYS and APP_ADMIN_API_KEYS_FILE are both set; set one of them/);
  assert.ok(!both.stderr.includes(KEYS.admin), 'the key never appears in the output');

  const port = await freePort();
  const child = spawn(process.execPath, entry, {
    env: { ...baseEnv, ...files, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = once(child, 'exit');
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', () => void (output.includes('picopay: listening on') && resolve()));
      child.on('exit', () => reject(new Error(`server exited: ${output}`)));
    });
    const users = await fetch(`http://127.0.0.1:${port}/users`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.admin, 'content-type': 'application/json' },
      body: '{"balances":{"USD":5}}',
    });
    assert.equal(users.status, 201, 'the admin key from APP_ADMIN_API_KEYS_FILE is accepted');
    child.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null]);
    assert.ok(!output.includes(KEYS.admin), 'the key never appears in the output');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
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
    // Single-URL mode on a superuser login: one line says the server's sessions switched to the application role.
    const roleLines = output.split('\n').filter((line) => line.startsWith('picopay: database roles:'));
    assert.equal(roleLines.length, 1, output);
    assert.match(roleLines[0]!, /server sessions SET ROLE picopay_app/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
