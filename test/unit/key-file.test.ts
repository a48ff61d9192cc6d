// APP_KEYS_FILE: keys with scopes, plain or as SHA-256 digests. A malformed file stops start-up with a message naming
// the entry, never the key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { keyDigest, loadApiKeys, parseKeyFile } from '../../src/auth/key-config.ts';
import { createKeyRing } from '../../src/auth/key-ring.ts';
import { ADMIN_SCOPES } from '../../src/auth/scopes.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'picopay-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = (content: unknown): string => {
  const name = path.join(dir, `keys-${++files}.json`);
  writeFileSync(name, typeof content === 'string' ? content : JSON.stringify(content));
  return name;
};

const SECRET = 'sk_support_secret_key_0000000001';
const CHECKOUT = 'sk_checkout_secret_key_000000002';

test('plain keys and digests, scopes as listed, "admin" for every scope', () => {
  const entries = parseKeyFile(
    file({
      keys: [
        {
          client: 'checkout',
          key_sha256: keyDigest(CHECKOUT).toUpperCase(),
          scopes: ['charges:write', 'charges:read'],
        },
        { client: 'support', key: SECRET, scopes: ['read:all', 'refunds:any'] },
        { client: 'ops', key: 'sk_ops_secret_key_000000000000003', scopes: ['admin'] },
      ],
    }),
  );
  const ring = createKeyRing(entries);
  assert.deepEqual([...ring.authenticate(CHECKOUT)!.scopes], ['charges:write', 'charges:read']);
  assert.equal(ring.authenticate(CHECKOUT)!.maskedKey, `sha256:${keyDigest(CHECKOUT).slice(0, 8)}`);
  assert.deepEqual([...ring.authenticate(SECRET)!.scopes], ['read:all', 'refunds:any']);
  assert.deepEqual([...ring.authenticate('sk_ops_secret_key_000000000000003')!.scopes], [...ADMIN_SCOPES]);
});

test('every malformed entry is refused with a message naming the entry and never the key', () => {
  const cases: [unknown, RegExp][] = [
    [
      { keys: [{ client: 'a', key: SECRET, scopes: ['charges:write', 'charges:delete'] }] },
      /entry 1 \(client a\): unknown scope\(s\) "charges:delete"/,
    ],
    [{ keys: [{ client: 'a', key: SECRET, scopes: [] }] }, /entry 1 \(client a\): "scopes" must be a non-empty list/],
    [{ keys: [{ client: 'a', key: SECRET }] }, /entry 1 \(client a\): "scopes"/],
    [
      { keys: [{ client: 'a', key: SECRET, key_sha256: keyDigest(SECRET), scopes: ['admin'] }] },
      /exactly one of "key" and "key_sha256"/,
    ],
    [{ keys: [{ client: 'a', key_sha256: 'abc', scopes: ['admin'] }] }, /"key_sha256" must be 64 hex digits/],
    [{ keys: [{ client: 'a', key: 'short', scopes: ['admin'] }] }, /"key" must be 16-256 printable ASCII/],
    [{ keys: [{ client: 'bad name', key: SECRET, scopes: ['admin'] }] }, /entry 1: "client" must be/],
    [{ keys: [{ client: 'a', key: SECRET, scope: ['admin'], scopes: ['admin'] }] }, /unknown field\(s\) scope/],
    [
      {
        keys: [
          { client: 'a', key: SECRET, scopes: ['admin'] },
          { client: 'b', key: SECRET, scopes: ['admin'] },
        ],
      },
      /configured twice: APP_KEYS_FILE entry 1 \(client a\) and APP_KEYS_FILE entry 2 \(client b\)/,
    ],
    [{ keys: 'all' }, /expected \{"keys": \[\.\.\.\]\}/],
    ['{"keys": [', /not valid JSON/],
  ];
  for (const [content, message] of cases) {
    const name = file(content);
    assert.throws(
      () => loadApiKeys({ keysFile: name }),
      (error: Error) => message.test(error.message) && !error.message.includes(SECRET),
      JSON.stringify(content),
    );
  }
  assert.throws(() => loadApiKeys({ keysFile: path.join(dir, 'missing.json') }), /cannot be read \(ENOENT\)/);
});

test('the file works alone or beside the variables, as one ring; a key in both is refused at start-up', () => {
  const name = file({ keys: [{ client: 'support', key: SECRET, scopes: ['read:all'] }] });
  const config = loadConfig({ APP_KEYS_FILE: name, APP_API_KEYS: `checkout:${CHECKOUT}` });
  assert.deepEqual(
    config.apiKeys.map((k) => k.client),
    ['checkout', 'support'],
  );
  assert.throws(() => loadConfig({ APP_KEYS_FILE: name, APP_ADMIN_API_KEYS: `ops:${SECRET}` }), ConfigError);
});
