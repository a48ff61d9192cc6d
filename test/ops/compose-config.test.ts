// `docker-compose config -q` on every Compose file: the Compose implementation itself validates the schema and the
// interpolation offline (no Docker engine needed). Skipped, with the reason, when no docker-compose is on PATH;
// .ci/run installs Debian's docker-compose so CI runs it.
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { readText, requiredVars, root } from './deploy-parse.ts';

const probe = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
const skip =
  probe.error !== undefined || probe.status !== 0
    ? 'docker-compose is not on PATH (apt-get install docker-compose)'
    : false;

// Only PATH and HOME: no variable of the caller's shell (or a stray .env value) can make an invalid file pass.
const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' };
const compose = (file: string, env: Record<string, string>) =>
  spawnSync('docker-compose', ['--project-directory', root, '-f', file, 'config', '-q'], {
    cwd: root,
    env: { ...baseEnv, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });

test('docker-compose.yml is valid with no variable set', { skip }, () => {
  const run = compose('docker-compose.yml', {});
  assert.equal(run.status, 0, run.stderr);
});

test(
  'docker-compose.ha.yml (etcd, three Patroni nodes, HAProxy, the app) is valid with no variable set',
  { skip },
  () => {
    const run = compose('docker-compose.ha.yml', {});
    assert.equal(run.status, 0, run.stderr);
  },
);

test(
  'docker-compose.yml as Compose resolves it: NODE_ENV development even if the shell says production; loopback ports',
  { skip },
  () => {
    const run = spawnSync('docker-compose', ['--project-directory', root, '-f', 'docker-compose.yml', 'config'], {
      cwd: root,
      env: { ...baseEnv, NODE_ENV: 'production' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const resolved = parseYaml(run.stdout) as {
      services: Record<string, { environment?: Record<string, string>; ports?: unknown[] }>;
    };
    assert.equal(resolved.services.app?.environment?.NODE_ENV, 'development');
    const published = Object.entries(resolved.services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => [name, typeof p === 'string' ? p : JSON.stringify(p)] as const),
    );
    assert.ok(published.length >= 5, 'app, postgres, redis, prometheus and grafana publish a port');
    for (const [name, port] of published)
      assert.match(port, /^127\.0\.0\.1:|"host_ip":"127\.0\.0\.1"/, `${name} publishes ${port}`);
  },
);

test(
  'docker-compose.prod.yml is valid once its required secrets are set, and refuses to run without them',
  { skip },
  () => {
    const required = requiredVars(readText('docker-compose.prod.yml'));
    const secrets = Object.fromEntries(required.map((name) => [name, `placeholder_${name.toLowerCase()}_0123456789`]));
    const ok = compose('docker-compose.prod.yml', secrets);
    assert.equal(ok.status, 0, ok.stderr);
    for (const name of ['APP_API_KEYS', 'POSTGRES_PASSWORD', 'CACHE_SIGNING_KEY']) {
      const { [name]: _omitted, ...rest } = secrets;
      const missing = compose('docker-compose.prod.yml', rest);
      assert.notEqual(missing.status, 0, `runs without ${name}`);
      assert.match(missing.stderr, new RegExp(name));
    }
  },
);
