// TLS to PostgreSQL with sslmode=verify-full: a throw-away PostgreSQL with ssl=on that accepts only TLS
// connections (hostssl), its certificate signed by a CA the test makes. PicoPay given that CA (DATABASE_URL_FILE)
// migrates and serves a charge; given a CA that did not sign the certificate, or a host name the certificate does not
// name, it refuses to start and never gets a session. Run as the `postgres` OS user when the tests run as root.
import { spawnSync } from 'node:child_process';
import { chownSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { freePort } from '../helpers/processes.ts';
import { hasOpenssl, makeCa, type TestCa } from '../helpers/tls.ts';
import { ADMIN_KEY, charge, createFundedUser, newKey, startServer } from '../reliability/harness.ts';
import { postgresBinDir, replicaSkipReason } from '../scale/replica-fixture.ts';
import { runAsServiceUser, serviceDir } from '../scale/service-user.ts';

const skip = !hasOpenssl() ? 'openssl is not on PATH (apt-get install openssl)' : (replicaSkipReason() ?? false);
const USER = 'picopay_tls';

let dir = '';
let port = 0;
let ca: TestCa;
const dataDir = (): string => path.join(dir, 'data');
const logFile = (): string => path.join(dir, 'postgres.log');
const url = (host: string, rootCert: string): string =>
  `postgres://${USER}@${host}:${port}/picopay?sslmode=verify-full&sslrootcert=${encodeURIComponent(rootCert)}`;
/** Sessions PostgreSQL let in so far (log_connections): a refused TLS handshake never gets this far. */
const sessions = (): number => readFileSync(logFile(), 'utf8').split('connection authorized:').length - 1;

/** PostgreSQL refuses a private key others can read; when it runs as `postgres`, that user must own the key. */
function handKeyToService(file: string): void {
  if (process.getuid?.() !== 0) return;
  const id = (flag: string): number => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout);
  chownSync(file, id('-u'), id('-g'));
}

before(async () => {
  if (skip !== false) return;
  dir = serviceDir('picopay-pgtls-');
  ca = makeCa(path.join(dir, 'ca'));
  const server = ca.issue('postgres', ['IP:127.0.0.1']);
  handKeyToService(server.key);
  const hba = path.join(dir, 'pg_hba.conf');
  writeFileSync(
    hba,
    ['local all all trust', 'hostssl all all 127.0.0.1/32 trust', 'host all all 0.0.0.0/0 reject', ''].join('\n'),
    { mode: 0o644 },
  );
  const bin = (tool: string): string => path.join(postgresBinDir()!, tool);
  runAsServiceUser(bin('initdb'), [
    '-D',
    dataDir(),
    '-U',
    USER,
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  port = await freePort();
  const options = [
    `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off`,
    `-c ssl=on -c ssl_cert_file=${server.cert} -c ssl_key_file=${server.key} -c hba_file=${hba} -c log_connections=on`,
  ].join(' ');
  runAsServiceUser(bin('pg_ctl'), ['-D', dataDir(), '-l', logFile(), '-w', '-o', options, 'start']);
  const admin = new pg.Client({ connectionString: url('127.0.0.1', ca.cert).replace('/picopay?', '/postgres?') });
  await admin.connect();
  await admin.query('CREATE DATABASE picopay');
  await admin.end();
});

after(() => {
  if (dir === '') return;
  try {
    runAsServiceUser(path.join(postgresBinDir()!, 'pg_ctl'), ['-D', dataDir(), '-m', 'immediate', 'stop']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the test server accepts only TLS: a plain connection is rejected', { skip }, async () => {
  const plain = new pg.Client({ connectionString: `postgres://${USER}@127.0.0.1:${port}/picopay` });
  await assert.rejects(plain.connect(), /pg_hba\.conf rejects connection .*no encryption/);
});

test('verify-full with the CA that signed the server certificate: PicoPay migrates and charges', { skip }, async () => {
  const urlFile = path.join(dir, 'database-url');
  writeFileSync(urlFile, `${url('127.0.0.1', ca.cert)}\n`, { mode: 0o600 });
  const sessionsBefore = sessions();
  const server = await startServer({ DATABASE_URL: '', DATABASE_URL_FILE: urlFile });
  try {
    const userId = await createFundedUser(server.url, '10.00');
    const reply = await charge(server.url, userId, '2.50', newKey());
    assert.equal(reply.status, 200, reply.body);
    const check = new pg.Client({ connectionString: url('127.0.0.1', ca.cert) });
    await check.connect();
    const { rows } = await check.query<{ ssl: boolean }>(
      "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'picopay'",
    );
    await check.end();
    assert.ok(rows.length > 0 && rows.every((r) => r.ssl), 'the pool connections are TLS');
    assert.ok(sessions() > sessionsBefore, 'sessions are logged (so the refusal tests can count none)');
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0);
  }
});

/** The real entry point with this DATABASE_URL: exit status and what it printed. */
function startWith(databaseUrl: string): { status: number | null; stderr: string } {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.resolve(import.meta.dirname, '../../src/server.ts')],
    {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: databaseUrl,
        APP_ADMIN_API_KEYS: `ops:${ADMIN_KEY}`,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'warn',
      },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { status: run.status, stderr: run.stderr };
}

test('verify-full with a CA that did not sign the certificate: refuses to start, no session', { skip }, () => {
  const other = makeCa(path.join(dir, 'other-ca'), 'Some other CA');
  const before = sessions();
  const run = startWith(url('127.0.0.1', other.cert));
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /picopay: failed to start: .*(unable to (verify|get local issuer)|self-signed)/i);
  assert.equal(sessions(), before, 'PostgreSQL let no session in');
});

test('verify-full checks the host name: the certificate names 127.0.0.1, not localhost', { skip }, () => {
  const before = sessions();
  const run = startWith(url('localhost', ca.cert));
  assert.equal(run.status, 1, run.stderr);
  assert.match(
    run.stderr,
    /picopay: failed to start: Hostname\/IP does not match certificate's altnames: Host: localhost\b/,
  );
  assert.equal(sessions(), before, 'PostgreSQL let no session in');
});
