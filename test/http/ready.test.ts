// GET /ready answers from a probe refreshed at most once a second, whatever the request rate (issue 12).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { DATABASE_URL, startApp } from '../helpers/app.ts';
import { startTcpProxy } from '../reliability/tcp-proxy.ts';

async function probes(app: FastifyInstance): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith('ready_probes_total '));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

test('200 concurrent /ready requests cause at most a couple of database probes', async () => {
  const { app } = await startApp();
  const before = await probes(app);
  const answers = await Promise.all(Array.from({ length: 200 }, () => app.inject({ method: 'GET', url: '/ready' })));
  assert.ok(answers.every((r) => r.statusCode === 200));
  assert.ok(answers.every((r) => r.json().postgres === 'up'));
  const ran = (await probes(app)) - before;
  assert.ok(ran >= 1 && ran <= 2, `${ran} probes for 200 requests`);
});

test('/ready turns 503 once the database is unreachable, within the refresh interval plus the connect bound', async () => {
  const target = new URL(DATABASE_URL);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const proxied = new URL(DATABASE_URL);
  proxied.port = String(proxy.port);
  const { app } = await startApp({ DATABASE_URL: proxied.toString(), DB_CONNECT_TIMEOUT_MS: '300' });
  assert.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
  await proxy.close();
  // Bounded poll: 1 s of cached result, then one probe bounded by the 300 ms connect timeout (plus slack for CI).
  const deadline = Date.now() + 5000;
  let last = 200;
  while (Date.now() < deadline) {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    last = res.statusCode;
    if (last === 503) {
      assert.equal(res.json().postgres, 'down');
      assert.ok(Number(res.headers['retry-after']) >= 1);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(last, 503, '/ready reports the database down');
});
