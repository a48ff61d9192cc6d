// kill -HUP re-reads APP_KEYS_FILE without a restart: keys added work, keys removed stop working, and requests under
// load never fail because of the swap. A file that does not parse changes nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { countBy, newKey, post, startServer } from '../reliability/harness.ts';

const STEADY = 'hk_steady_key_00000000000000000001';
const ADDED = 'hk_added_key_000000000000000000002';
const REMOVED = 'hk_removed_key_0000000000000000003';
const ADMIN = 'hk_admin_key_000000000000000000004';

const dir = mkdtempSync(path.join(tmpdir(), 'picopay-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const keysFile = path.join(dir, 'keys.json');
const entry = (client: string, key: string, scopes: string[]) => ({ client, key, scopes });
const write = (keys: object[]): void => writeFileSync(keysFile, JSON.stringify({ keys }));

/** Polls until the server's output contains `text` (the reload prints one line either way). */
async function waitFor(output: () => string, text: string, from: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!output().slice(from).includes(text)) {
    if (Date.now() > deadline) throw new Error(`no "${text}" in: ${output().slice(from)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test(
  'SIGHUP swaps the key file in under load: no request fails, added keys work, removed keys stop',
  { timeout: 120_000 },
  async () => {
    write([
      entry('shop', STEADY, ['charges:write', 'users:read']),
      entry('old', REMOVED, ['users:read']),
      entry('ops', ADMIN, ['admin']),
    ]);
    let loading = true;
    const server = await startServer({ APP_KEYS_FILE: keysFile, APP_API_KEYS: '', APP_ADMIN_API_KEYS: '' });
    try {
      const created = await post(server.url, '/users', { balances: { USD: '1000.00' } }, undefined, ADMIN);
      assert.equal(created.status, 201, created.body);
      const userId = JSON.parse(created.body).id as number;
      const status = async (key: string): Promise<number> =>
        (await fetch(`${server.url}/users/${userId}`, { headers: { 'x-api-key': key } })).status;
      assert.equal(await status(ADDED), 401);
      assert.equal(await status(REMOVED), 200);

      const answers: number[] = [];
      const worker = async (): Promise<void> => {
        while (loading) {
          const res = await post(
            server.url,
            '/charge',
            { user_id: userId, amount: '0.01', currency: 'USD' },
            newKey(),
            STEADY,
          );
          answers.push(res.status);
        }
      };
      const workers = Array.from({ length: 8 }, worker);
      while (answers.length < 50) await new Promise((resolve) => setTimeout(resolve, 10));

      write([
        entry('shop', STEADY, ['charges:write', 'users:read']),
        entry('new', ADDED, ['users:read']),
        entry('ops', ADMIN, ['admin']),
      ]);
      let mark = server.output().length;
      server.child.kill('SIGHUP');
      await waitFor(() => server.output(), 'API keys reloaded (3 keys)', mark);
      const afterReload = answers.length;
      assert.equal(await status(ADDED), 200, 'an added key works at once');
      assert.equal(await status(REMOVED), 401, 'a removed key is refused at once');

      writeFileSync(keysFile, '{"keys": [');
      mark = server.output().length;
      server.child.kill('SIGHUP');
      await waitFor(() => server.output(), 'API keys not reloaded', mark);
      assert.equal(await status(ADDED), 200, 'a broken file changes nothing');

      while (answers.length < afterReload + 50) await new Promise((resolve) => setTimeout(resolve, 10));
      loading = false;
      await Promise.all(workers);
      assert.deepEqual(
        countBy(answers, (s) => s),
        { 200: answers.length },
        'no request failed across the reloads',
      );
      assert.ok(!server.output().includes(STEADY) && !server.output().includes(ADDED), 'no key in the output');
    } finally {
      await server.stop();
    }
  },
);
