// CACHE_SIGNING_KEY: how it is read, when it is required, what is generated without it, and the envelope itself.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.ts';
import { createCacheSigner } from '../../src/idempotency/cache-signature.ts';
import { ensureCacheSigningKey } from '../../src/idempotency/signing-keys.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'picopay-signing-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const DB = 'postgres://u@db:5432/x';
const KEY_A = 'a'.repeat(40);
const KEY_B = 'b'.repeat(40);
const base = { DATABASE_URL: DB, APP_API_KEYS: 'checkout:ck_checkout_key_aaaaaaaaaaaaaaaa' };

test('NODE_ENV=production on a real database refuses to start without CACHE_SIGNING_KEY, naming it', () => {
  assert.throws(() => loadConfig({ ...base, NODE_ENV: 'production' }), /CACHE_SIGNING_KEY/);
  assert.deepEqual(loadConfig({ ...base, NODE_ENV: 'production', CACHE_SIGNING_KEY: KEY_A }).cacheSigningKeys, [KEY_A]);
  assert.deepEqual(loadConfig(base).cacheSigningKeys, [], 'development: none, the server makes one');
});

test('several keys, comma-separated, from the variable or its _FILE; a short key is refused without echoing it', () => {
  assert.deepEqual(loadConfig({ ...base, CACHE_SIGNING_KEY: `${KEY_A}, ${KEY_B}` }).cacheSigningKeys, [KEY_A, KEY_B]);
  const file = path.join(dir, 'signing');
  writeFileSync(file, `${KEY_B},${KEY_A}\n`);
  assert.deepEqual(loadConfig({ ...base, CACHE_SIGNING_KEY_FILE: file }).cacheSigningKeys, [KEY_B, KEY_A]);
  assert.throws(
    () => loadConfig({ ...base, CACHE_SIGNING_KEY: `${KEY_A},short_secret_value` }),
    (error: Error) => /entry 2 must be at least 32/.test(error.message) && !error.message.includes('short_secret'),
  );
});

test('without a key: persisted next to the dev admin key on the embedded database, ephemeral with DATABASE_URL', () => {
  const embedded = loadConfig({ PICOPAY_DATA_DIR: dir });
  const first = ensureCacheSigningKey(embedded);
  assert.equal(first.ephemeral, undefined);
  const file = path.join(dir, 'cache-signing-key');
  assert.equal(readFileSync(file, 'utf8').trim(), first.config.cacheSigningKeys[0]);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(ensureCacheSigningKey(embedded).config.cacheSigningKeys, first.config.cacheSigningKeys, 'kept');

  const deployed = ensureCacheSigningKey(loadConfig(base));
  assert.equal(deployed.ephemeral, deployed.config.cacheSigningKeys[0]);
  assert.notEqual(deployed.ephemeral, ensureCacheSigningKey(loadConfig(base)).ephemeral, 'random per start');
});

test('the envelope binds the key name and the value; the first key signs, every key verifies', () => {
  const rotated = createCacheSigner([KEY_B, KEY_A]);
  const old = createCacheSigner([KEY_A]);
  const signed = old.sign('idempotency:c:k1', '{"x":1}');
  assert.deepEqual(rotated.verify('idempotency:c:k1', signed), { ok: true, payload: '{"x":1}' });
  assert.deepEqual(rotated.verify('idempotency:c:k2', signed), { ok: false, reason: 'bad_signature' });
  assert.deepEqual(rotated.verify('idempotency:c:k1', signed.replace('{"x":1}', '{"x":2}')), {
    ok: false,
    reason: 'bad_signature',
  });
  assert.deepEqual(createCacheSigner([KEY_B]).verify('idempotency:c:k1', signed), {
    ok: false,
    reason: 'bad_signature',
  });
  assert.deepEqual(rotated.verify('idempotency:c:k1', '{"x":1}'), { ok: false, reason: 'malformed' });
  assert.deepEqual(old.verify('k', rotated.sign('k', 'v')), { ok: false, reason: 'bad_signature' }, 'new key signs');
});
