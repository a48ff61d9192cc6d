// @picopay/client's webhooks.verify against the Standard Webhooks reference library: what it signs verifies, and a
// changed body, id, timestamp or secret, a stale timestamp or a missing header is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { PicoPay, webhooks, WebhookVerificationError } from '../../packages/client/src/index.ts';
import { generateSecret } from '../../src/webhooks/service.ts';
import { signedHeaders } from '../../src/webhooks/deliver.ts';

const secret = generateSecret();
const body = '{"type":"charge.succeeded","timestamp":"2026-12-02T16:00:00.000Z","data":{"id":7}}';
const now = new Date();

test('verifies what the reference library and the relay sign, and returns the event', () => {
  const reference = new Webhook(secret).sign('evt_1', now, body);
  const headers = {
    'webhook-id': 'evt_1',
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': `v1,bm90IGl0 ${reference}`,
  };
  const event = webhooks.verify<{ id: number }>(body, headers, secret);
  assert.equal(event.type, 'charge.succeeded');
  assert.equal(event.data.id, 7);
  const relay = signedHeaders({ url: 'http://x', secret, webhookId: 'evt_2', body }, now);
  assert.equal(
    new PicoPay({ baseUrl: 'http://x', apiKey: 'k' }).webhooks.verify(Buffer.from(body), new Headers(relay), secret)
      .type,
    'charge.succeeded',
  );
  // And the reference library accepts the relay's headers.
  assert.deepEqual(new Webhook(secret).verify(body, relay), JSON.parse(body));
});

test('refuses a changed body, id or secret, a stale or future timestamp, and missing headers', () => {
  const headers = signedHeaders({ url: 'http://x', secret, webhookId: 'evt_3', body }, now);
  const refused = (p: string, h: Record<string, string>, s = secret, options = {}) =>
    assert.throws(() => webhooks.verify(p, h, s, options), WebhookVerificationError);
  refused(body.replace('7', '8'), headers);
  refused(body, { ...headers, 'webhook-id': 'evt_4' });
  refused(body, headers, generateSecret());
  refused(body, headers, secret, { now: new Date(now.getTime() + 301_000) });
  refused(body, headers, secret, { now: new Date(now.getTime() - 301_000) });
  refused(body, { ...headers, 'webhook-signature': '' });
  refused(body, { 'webhook-id': 'evt_3', 'webhook-signature': headers['webhook-signature']! });
  refused(body, { ...headers, 'webhook-signature': headers['webhook-signature']!.replace('v1,', 'v2,') });
  assert.doesNotThrow(() => webhooks.verify(body, headers, secret, { now: new Date(now.getTime() + 299_000) }));
});
