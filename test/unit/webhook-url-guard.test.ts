// The SSRF guard of webhook URLs: which addresses are refused (in every IPv6 spelling of an IPv4 one), names that
// resolve to any refused address, the allowlist, and the pinned lookup: a delivery connects to the address checked.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { deliver } from '../../src/webhooks/deliver.ts';
import { checkWebhookUrl, isPublicAddress } from '../../src/webhooks/url-guard.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

test('private, loopback, link-local, CGNAT, unique-local, multicast and their IPv4-mapped forms are not public', () => {
  for (const address of [
    '127.0.0.1',
    '10.0.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '100.100.0.1',
    '169.254.169.254',
    '0.0.0.0',
    '224.0.0.251',
    '255.255.255.255',
    '::',
    '::1',
    'fe80::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '0:0:0:0:0:ffff:10.0.0.1',
    '64:ff9b::a00:1',
  ])
    assert.equal(isPublicAddress(address), false, address);
  for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8', '172.32.0.1'])
    assert.equal(isPublicAddress(address), true, address);
});

test('a name with any private address is refused; the allowlist admits host or host:port', async () => {
  const resolve = async (host: string) =>
    host === 'mixed.example'
      ? [
          { address: '93.184.216.34', family: 4 },
          { address: '10.0.0.5', family: 4 },
        ]
      : [{ address: '93.184.216.34', family: 4 }];
  const mixed = await checkWebhookUrl('https://mixed.example/hook', [], resolve);
  assert.equal(mixed.ok, false);
  assert.match(!mixed.ok ? mixed.reason : '', /10\.0\.0\.5/);
  assert.equal((await checkWebhookUrl('https://public.example/hook', [], resolve)).ok, true);
  assert.equal((await checkWebhookUrl('http://127.0.0.1:8080/x', ['127.0.0.1:8080'])).ok, true);
  assert.equal((await checkWebhookUrl('http://127.0.0.1:8081/x', ['127.0.0.1:8080'])).ok, false);
  assert.equal((await checkWebhookUrl('http://127.0.0.1:8081/x', ['127.0.0.1'])).ok, true);
  assert.equal((await checkWebhookUrl('https://a:b@public.example/', [], resolve)).ok, false);
  assert.equal((await checkWebhookUrl('file:///etc/passwd', [], resolve)).ok, false);
});

test('a delivery connects to the address that was checked, not to what DNS says later', async () => {
  const receiver = await startReceiver();
  after(() => receiver.close());
  // receiver.test resolves nowhere but through this resolver: reaching the receiver proves the lookup is pinned.
  const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
  const url = `http://receiver.test:${receiver.port}/hooks`;
  const delivery = { url, secret: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', webhookId: 'evt_1', body: '{}' };
  const outcome = await deliver(delivery, { timeoutMs: 2000, allowlist: ['receiver.test'], resolve });
  assert.equal(outcome.delivered, true, outcome.error);
  assert.equal(receiver.received.length, 1);
  const refused = await deliver(delivery, { timeoutMs: 2000, allowlist: [], resolve });
  assert.equal(refused.delivered, false);
  assert.match(refused.error ?? '', /^refused: 127\.0\.0\.1 is not a public address/);
  assert.equal(receiver.received.length, 1, 'nothing sent to a refused address');
});

test('the WEBHOOK_* settings are validated, with their defaults', () => {
  const defaults = loadConfig({});
  assert.deepEqual(
    [
      defaults.webhookUrlAllowlist,
      defaults.webhookRetryBaseMs,
      defaults.webhookRetryPeriodMs,
      defaults.webhookTimeoutMs,
    ],
    [[], 5000, 3 * 86_400_000, 10_000],
  );
  const set = loadConfig({
    WEBHOOK_URL_ALLOWLIST: 'Hooks.Internal:8443, 127.0.0.1,[::1]:9',
    WEBHOOK_RETRY_PERIOD: '12h',
  });
  assert.deepEqual(set.webhookUrlAllowlist, ['hooks.internal:8443', '127.0.0.1', '[::1]:9']);
  assert.equal(set.webhookRetryPeriodMs, 12 * 3_600_000);
  for (const bad of [
    { WEBHOOK_URL_ALLOWLIST: 'http://x' },
    { WEBHOOK_URL_ALLOWLIST: 'a,,b' },
    { WEBHOOK_RETRY_PERIOD: '3 days' },
    { WEBHOOK_TIMEOUT_MS: '0' },
    { WEBHOOK_RETRY_BASE_MS: '-1' },
  ])
    assert.throws(() => loadConfig(bad), ConfigError, JSON.stringify(bad));
});

test('a redirect is a failed attempt (not followed); a large answer is cut after a few KB', async () => {
  let followed = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/moved') return void res.writeHead(302, { location: '/target' }).end();
    if (req.url === '/target') return void (followed++, res.writeHead(200).end());
    // 2xx with an endless body: the relay reads a few KB, then drops the connection.
    res.writeHead(200);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = (): void => {
      while (res.write(chunk));
      res.once('drain', pump);
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const delivery = (path: string) => ({ url: base + path, secret: 'whsec_c2VjcmV0', webhookId: 'evt_9', body: '{}' });
  const options = { timeoutMs: 5000, allowlist: ['127.0.0.1'] };
  const moved = await deliver(delivery('/moved'), options);
  assert.deepEqual([moved.delivered, moved.status, followed], [false, 302, 0]);
  const large = await deliver(delivery('/large'), options);
  assert.deepEqual([large.delivered, large.status], [true, 200]);
});
