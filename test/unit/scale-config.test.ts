// The scale-out settings: validated like every other variable, and the named-statement helper honouring the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createPool, statement } from '../../src/db/pool.ts';

test('REDIS_CLUSTER_NODES: host:port list, IPv6 in brackets; not combined with REDIS_URL/REDIS_HOST', () => {
  assert.deepEqual(loadConfig({ REDIS_CLUSTER_NODES: 'a.example:7000, 10.0.0.2:7001,[::1]:7002' }).redisClusterNodes, [
    { host: 'a.example', port: 7000 },
    { host: '10.0.0.2', port: 7001 },
    { host: '::1', port: 7002 },
  ]);
  assert.equal(loadConfig({}).redisClusterNodes, undefined);
  for (const bad of ['a.example', 'a.example:0', 'a.example:70000', 'a b:7000', 'a:7000,', 'redis://a:7000']) {
    assert.throws(
      () => loadConfig({ REDIS_CLUSTER_NODES: bad }),
      /REDIS_CLUSTER_NODES entry \d+ must be host:port/,
      bad,
    );
  }
  assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'redis://b:6379' }), ConfigError);
  assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_HOST: 'b' }), ConfigError);
});

test('DB_PREPARED_STATEMENTS, DATABASE_REPLICA_URL, DATABASE_MIGRATION_URL', () => {
  const defaults = loadConfig({});
  assert.deepEqual(
    [defaults.dbPreparedStatements, defaults.databaseReplicaUrl, defaults.databaseMigrationUrl],
    [true, undefined, undefined],
  );
  assert.equal(loadConfig({ DB_PREPARED_STATEMENTS: 'false' }).dbPreparedStatements, false);
  assert.throws(() => loadConfig({ DB_PREPARED_STATEMENTS: 'maybe' }), /DB_PREPARED_STATEMENTS must be true or false/);
  assert.equal(loadConfig({ DATABASE_REPLICA_URL: 'postgres://r:5432/db' }).databaseReplicaUrl, 'postgres://r:5432/db');
  assert.throws(() => loadConfig({ DATABASE_REPLICA_URL: 'mysql://r/db' }), /DATABASE_REPLICA_URL must use/);
  assert.throws(() => loadConfig({ DATABASE_MIGRATION_URL: 'not a url' }), /DATABASE_MIGRATION_URL must be a URL/);
});

test('statement() keeps the name unless the pool was made with DB_PREPARED_STATEMENTS=false, also through a wrapper', async () => {
  const url = 'postgres://nobody@127.0.0.1:1/none';
  const prepared = createPool(loadConfig({}), url);
  const unnamed = createPool(loadConfig({ DB_PREPARED_STATEMENTS: 'false' }), url);
  try {
    assert.deepEqual(statement(prepared, 'n', 'SELECT $1', [1]), { name: 'n', text: 'SELECT $1', values: [1] });
    assert.deepEqual(statement(unnamed, 'n', 'SELECT $1', [1]), { text: 'SELECT $1', values: [1] });
    assert.deepEqual(statement(Object.create(unnamed), 'n', 'SELECT 1', []), { text: 'SELECT 1', values: [] });
  } finally {
    await prepared.end();
    await unnamed.end();
  }
});
