// The retention settings and the caches' bound: strict parsing of IDEMPOTENCY_RETENTION, and no cached copy of a
// response outliving its record (a fake clock, no sleeps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createCacheSigner } from '../../src/idempotency/cache-signature.ts';
import { createResponseCache } from '../../src/idempotency/response-cache.ts';
import { createRedisGuard } from '../../src/plugins/external/redis-guard.ts';

test('IDEMPOTENCY_RETENTION: documented defaults, units, and junk refused with the variable named', () => {
  const defaults = loadConfig({});
  assert.equal(defaults.idempotencyRetentionMs, 30 * 86_400_000);
  assert.equal(defaults.idempotencyDeclineRetentionMs, 86_400_000);
  assert.equal(defaults.idempotencyPurgeIntervalMs, 60_000);
  assert.equal(loadConfig({ IDEMPOTENCY_RETENTION: '12h' }).idempotencyRetentionMs, 12 * 3_600_000);
  assert.equal(loadConfig({ IDEMPOTENCY_RETENTION: '90s' }).idempotencyRetentionMs, 90_000);
  // The decline retention never exceeds the retention of every record.
  assert.equal(loadConfig({ IDEMPOTENCY_RETENTION: '1h' }).idempotencyDeclineRetentionMs, 3_600_000);
  for (const junk of ['30', '30 days', 'P30D', '-1d', '1.5h', '0s', '999999d', 'soon']) {
    assert.throws(
      () => loadConfig({ IDEMPOTENCY_RETENTION: junk }),
      (e: unknown) => e instanceof ConfigError && e.message.startsWith('IDEMPOTENCY_RETENTION must be a duration'),
      junk,
    );
  }
  assert.throws(() => loadConfig({ IDEMPOTENCY_DECLINE_RETENTION: 'x' }), /IDEMPOTENCY_DECLINE_RETENTION/);
  assert.throws(() => loadConfig({ IDEMPOTENCY_PURGE_INTERVAL_MS: '1m' }), /IDEMPOTENCY_PURGE_INTERVAL_MS/);
});

test('a cached response lives no longer than its record: the retention, or the decline retention', () => {
  let now = 1_000_000;
  const cache = createResponseCache({
    redis: createRedisGuard(undefined, () => {}),
    signer: createCacheSigner(['retention-test-signing-key-0123456789abcdef']),
    ttlSeconds: 86_400,
    memoryEntries: 100,
    events: { lookup: () => {}, rejected: () => {} },
    retention: { retentionMs: 10_000, declineRetentionMs: 2_000 },
    now: () => now,
  });
  const fingerprint = 'a'.repeat(64);
  cache.set('c', 'charged', { fingerprint, status: 200, code: null, body: '{}' });
  cache.set('c', 'ghost', { fingerprint, status: 404, code: 'user_not_found', body: '{}' });
  return (async () => {
    now += 1_999;
    assert.ok(await cache.get('c', 'ghost', fingerprint));
    now += 1;
    assert.equal(await cache.get('c', 'ghost', fingerprint), undefined, 'decline expired with its record');
    now += 7_999;
    assert.ok(await cache.get('c', 'charged', fingerprint));
    now += 1;
    assert.equal(await cache.get('c', 'charged', fingerprint), undefined, 'success expired with its record');
  })();
});
