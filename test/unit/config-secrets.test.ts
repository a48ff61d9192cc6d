// Secrets from NAME or NAME_FILE, direct-HTTPS files, and when a server without a key may mint a development key.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureDevelopmentKey } from '../../src/auth/dev-keys.ts';
import { keyDigest } from '../../src/auth/key-config.ts';
import { ADMIN_SCOPES } from '../../src/auth/scopes.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { hasOpenssl, makeCa } from '../helpers/tls.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'picopay-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A file holding `content`; its path. */
function file(name: string, content: string): string {
  const full = path.join(dir, name);
  writeFileSync(full, content, { mode: 0o600 });
  return full;
}

const KEY = 'ck_file_key_aaaaaaaaaaaaaaaaaaaa';
const ADMIN = 'ck_file_admin_bbbbbbbbbbbbbbbbbbb';

test('every secret can come from NAME_FILE, trailing newline trimmed', () => {
  const config = loadConfig({
    APP_API_KEY_FILE: file('api-key', `${KEY}\n`),
    APP_API_KEYS_FILE: file('api-keys', `checkout:${KEY}x,billing:${KEY}y\r\n`),
    APP_ADMIN_API_KEYS_FILE: file('admin-keys', `ops:${ADMIN}\n`),
    DATABASE_URL_FILE: file('db', 'postgres://u:p%40ss@db.internal:5432/picopay\n'),
    DATABASE_MIGRATION_URL_FILE: file('db-migrate', 'postgres://u:p@db-direct:5432/picopay\n'),
    DATABASE_REPLICA_URL_FILE: file('db-replica', 'postgresql://u:p@db-replica:5432/picopay\n'),
    REDIS_URL_FILE: file('redis', 'redis://:secret@redis:6379\n'),
  });
  assert.deepEqual(
    config.apiKeys.map((k) => [k.client, k.digest, k.scopes === ADMIN_SCOPES]),
    [
      ['default', keyDigest(KEY), false],
      ['checkout', keyDigest(`${KEY}x`), false],
      ['billing', keyDigest(`${KEY}y`), false],
      ['ops', keyDigest(ADMIN), true],
    ],
  );
  assert.equal(config.databaseUrl, 'postgres://u:p%40ss@db.internal:5432/picopay');
  assert.equal(config.databaseMigrationUrl, 'postgres://u:p@db-direct:5432/picopay');
  assert.equal(config.databaseReplicaUrl, 'postgresql://u:p@db-replica:5432/picopay');
  assert.equal(config.redisUrl, 'redis://:secret@redis:6379');
});

test('NAME and NAME_FILE both set is an error naming both', () => {
  for (const name of ['APP_API_KEYS', 'APP_ADMIN_API_KEYS', 'DATABASE_URL', 'REDIS_URL']) {
    const value = name.endsWith('URL') ? 'redis://x:6379' : `c:${KEY}`;
    assert.throws(
      () => loadConfig({ [name]: value, [`${name}_FILE`]: file('both', value) }),
      (error: Error) =>
        error instanceof ConfigError && error.message === `${name} and ${name}_FILE are both set; set one of them`,
      name,
    );
  }
});

test('an unreadable, empty or oversized file is an error naming the variable and the path, never the contents', () => {
  const missing = path.join(dir, 'no-such-file');
  assert.throws(
    () => loadConfig({ DATABASE_URL_FILE: missing }),
    new ConfigError(`DATABASE_URL_FILE: cannot read ${missing} (ENOENT)`),
  );
  assert.throws(() => loadConfig({ APP_API_KEYS_FILE: dir }), /^Error: APP_API_KEYS_FILE: cannot read .* \(EISDIR\)$/);
  const empty = file('empty', '\n');
  assert.throws(() => loadConfig({ REDIS_URL_FILE: empty }), new ConfigError(`REDIS_URL_FILE: ${empty} is empty`));
  const big = file('big', 'x'.repeat(1024 * 1024 + 1));
  assert.throws(() => loadConfig({ APP_API_KEYS_FILE: big }), /APP_API_KEYS_FILE: .*big is larger than 1048576 bytes/);
  // Contents that are not a valid value: the message names the variable and what is wrong, not the secret.
  const secret = 'hunter2-very-secret-password';
  for (const [name, content] of [
    ['DATABASE_URL_FILE', `not a url ${secret}`],
    ['DATABASE_URL_FILE', `mysql://root:${secret}@db/x`],
    ['APP_API_KEYS_FILE', `client:${secret} with spaces`],
  ] as const) {
    assert.throws(
      () => loadConfig({ [name]: file('bad', content) }),
      (error: Error) =>
        error instanceof ConfigError &&
        !error.message.includes(secret) &&
        /DATABASE_URL|APP_API_KEYS/.test(error.message),
      `${name}: ${content}`,
    );
  }
});

test('a PostgreSQL URL naming an sslrootcert/sslcert/sslkey that cannot be read stops start-up, named', () => {
  const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\n');
  const ok = `postgres://u@db:5432/x?sslmode=verify-full&sslrootcert=${ca}`;
  assert.equal(loadConfig({ DATABASE_URL: ok }).databaseUrl, ok);
  const gone = path.join(dir, 'gone.pem');
  assert.throws(
    () =>
      loadConfig({
        DATABASE_REPLICA_URL_FILE: file('replica-url', `postgres://u@r/x?sslmode=verify-full&sslrootcert=${gone}`),
      }),
    new ConfigError(`DATABASE_REPLICA_URL sslrootcert: cannot read ${gone} (ENOENT)`),
  );
  assert.throws(
    () => loadConfig({ DATABASE_URL: `postgres://u@db/x?sslcert=${ca}&sslkey=${gone}` }),
    /DATABASE_URL sslkey: cannot read/,
  );
});

test(
  'TLS_CERT_FILE and TLS_KEY_FILE: both or neither, readable, a certificate and its key',
  { skip: !hasOpenssl() && 'openssl is not on PATH' },
  () => {
    const ca = makeCa(path.join(dir, 'tls-ca'));
    const server = ca.issue('server', ['IP:127.0.0.1']);
    const other = ca.issue('other', ['DNS:other.invalid']);
    assert.equal(loadConfig({}).tls, undefined);
    const tls = loadConfig({ TLS_CERT_FILE: server.cert, TLS_KEY_FILE: server.key }).tls;
    assert.equal(tls?.cert, readFileSync(server.cert, 'utf8'));
    assert.equal(tls?.key, readFileSync(server.key, 'utf8'));
    assert.throws(
      () => loadConfig({ TLS_CERT_FILE: server.cert }),
      /TLS_CERT_FILE and TLS_KEY_FILE must be set together/,
    );
    assert.throws(
      () => loadConfig({ TLS_KEY_FILE: server.key }),
      /TLS_CERT_FILE and TLS_KEY_FILE must be set together/,
    );
    assert.throws(
      () => loadConfig({ TLS_CERT_FILE: server.cert, TLS_KEY_FILE: path.join(dir, 'nope.key') }),
      /^Error: TLS_KEY_FILE: cannot read .*nope\.key \(ENOENT\)$/,
    );
    const keyText = readFileSync(server.key, 'utf8');
    for (const [cert, key] of [
      [server.cert, other.key],
      [server.key, server.key],
      [file('garbage.pem', 'garbage'), server.key],
    ] as const) {
      assert.throws(
        () => loadConfig({ TLS_CERT_FILE: cert, TLS_KEY_FILE: key }),
        (error: Error) =>
          error instanceof ConfigError &&
          error.message.startsWith('TLS_CERT_FILE/TLS_KEY_FILE must be a PEM certificate and its private key') &&
          !error.message.includes(keyText.split('\n')[1]!),
      );
    }
  },
);

test('a server with no key: the embedded database mints a development admin key; with DATABASE_URL it refuses, whatever NODE_ENV', () => {
  const dataDir = path.join(dir, 'data');
  const embedded = loadConfig({ PICOPAY_DATA_DIR: dataDir });
  const first = ensureDevelopmentKey(embedded);
  assert.ok(first.generated !== undefined);
  assert.equal(first.config.apiKeys[0]?.scopes, ADMIN_SCOPES);
  assert.equal(first.config.apiKeys[0]?.client, 'default');
  assert.equal(first.config.apiKeys[0]?.digest, keyDigest(first.generated.key));
  const keyFile = path.join(dataDir, 'admin-api-key');
  assert.equal(readFileSync(keyFile, 'utf8'), `${first.generated.key}\n`);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  assert.equal(ensureDevelopmentKey(embedded).generated?.key, first.generated.key, 'the same key after a restart');

  for (const NODE_ENV of [undefined, 'development', 'test', 'Production', 'staging']) {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@db:5432/x', NODE_ENV, PICOPAY_DATA_DIR: dataDir });
    assert.throws(
      () => ensureDevelopmentKey(config),
      (error: Error) =>
        error instanceof ConfigError && /APP_API_KEYS/.test(error.message) && /DATABASE_URL unset/.test(error.message),
      `NODE_ENV=${NODE_ENV}`,
    );
  }
  assert.throws(
    () => loadConfig({ DATABASE_URL: 'postgres://u@db:5432/x', NODE_ENV: 'production' }),
    /APP_API_KEYS or APP_API_KEY \(or its _FILE\), or a non-admin entry of APP_KEYS_FILE, must be set when NODE_ENV=production/,
  );
  assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /must be set when NODE_ENV=production/);

  const configured = loadConfig({ DATABASE_URL: 'postgres://u@db:5432/x', APP_ADMIN_API_KEYS: `ops:${ADMIN}` });
  const kept = ensureDevelopmentKey(configured);
  assert.equal(kept.generated, undefined);
  assert.equal(kept.config, configured);
});
