// Direct HTTPS (TLS_CERT_FILE/TLS_KEY_FILE) through the real entry point, with a CA made by the test: a client that
// trusts only that CA gets /health and a charge; one that does not trust it, or speaks plain HTTP, gets nothing.
// Workers under WEB_CONCURRENCY serve TLS too.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { hasOpenssl, makeCa, type TestCa } from '../helpers/tls.ts';
import { ADMIN_KEY, CLIENT_KEY, startServer } from '../reliability/harness.ts';

const skip = hasOpenssl() ? false : 'openssl is not on PATH (apt-get install openssl)';
const dir = mkdtempSync(path.join(tmpdir(), 'picopay-https-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let ca: TestCa | undefined;
function tlsEnv(): Record<string, string> {
  ca ??= makeCa(path.join(dir, 'ca'));
  const server = ca.issue('server', ['IP:127.0.0.1', 'DNS:localhost']);
  return { TLS_CERT_FILE: server.cert, TLS_KEY_FILE: server.key };
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One request on a new connection; `trust` is the only CA accepted (undefined: Node's default store). */
function request(
  port: number,
  method: string,
  route: string,
  options: { trust?: string; key?: string; body?: unknown; idempotencyKey?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.key !== undefined) headers['x-api-key'] = options.key;
  if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: route,
        headers,
        agent: false,
        timeout: 10_000,
        ...(options.trust === undefined ? {} : { ca: readFileSync(options.trust) }),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

test('HTTPS with a test CA: /health and a charge; untrusted or plain-HTTP clients get nothing', { skip }, async () => {
  const server = await startServer({ ...tlsEnv(), APP_API_KEYS: '', APP_API_KEYS_FILE: keysFile() });
  try {
    assert.match(server.output(), new RegExp(`picopay: listening on https://127\\.0\\.0\\.1:${server.port}\\n`));
    const trust = ca!.cert;
    assert.deepEqual(await request(server.port, 'GET', '/health', { trust }), {
      status: 200,
      body: '{"status":"healthy"}',
    });
    const user = await request(server.port, 'POST', '/users', {
      trust,
      key: ADMIN_KEY,
      body: { balances: { USD: 5 } },
    });
    assert.equal(user.status, 201, user.body);
    const body = { user_id: JSON.parse(user.body).id, amount: '1.25', currency: 'USD' };
    const charged = await request(server.port, 'POST', '/charge', {
      trust,
      key: CLIENT_KEY,
      body,
      idempotencyKey: `https-${server.port}`,
    });
    assert.equal(charged.status, 200, charged.body);
    assert.equal(JSON.parse(charged.body).transaction.amount_minor, 125);

    // Node's default trust store does not know the test CA: the handshake fails, no request is sent.
    await assert.rejects(request(server.port, 'GET', '/health'), (error: NodeJS.ErrnoException) =>
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/.test(error.code ?? ''),
    );
    // Plain HTTP to the TLS port: the connection is closed without an HTTP answer (not left hanging).
    await assert.rejects(
      fetch(`http://127.0.0.1:${server.port}/health`, { signal: AbortSignal.timeout(10_000) }),
      (error: Error) => error.name === 'TypeError',
    );
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0);
  }
});

test('WEB_CONCURRENCY=2: every worker serves HTTPS', { skip }, async () => {
  const server = await startServer({ ...tlsEnv(), WEB_CONCURRENCY: '2', LOG_LEVEL: 'info' });
  try {
    assert.match(server.output(), new RegExp(`listening on https://127\\.0\\.0\\.1:${server.port} \\(2 workers\\)`));
    // New connections go round-robin to the workers (node:cluster's default outside Windows).
    for (let i = 0; i < 6; i++) {
      assert.equal((await request(server.port, 'GET', '/health', { trust: ca!.cert })).status, 200);
    }
    const pids = new Set(
      server
        .output()
        .split('\n')
        .filter((line) => line.includes('"request completed"') && line.includes('"url":"/health"'))
        .map((line) => JSON.parse(line).pid),
    );
    assert.equal(pids.size, 2, 'both workers answered over TLS');
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0);
  }
});

/** The client key as a mounted secret would hold it: one line, trailing newline. */
function keysFile(): string {
  const file = path.join(dir, 'api-keys');
  writeFileSync(file, `shop:${CLIENT_KEY}\n`, { mode: 0o600 });
  return file;
}
