// Many instances: three PicoPay processes sharing one PostgreSQL and one Redis, load spread round-robin over them.
// Correctness must not depend on which instance a request lands on: the database decides every key and every debit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { REDIS_SKIP, REDIS_URL } from '../helpers/app.ts';
import {
  assertConserved,
  assertLedgerInvariants,
  charge,
  countBy,
  createFundedUser,
  inParallel,
  newKey,
  startServer,
  summary,
  type ServerProcess,
} from '../reliability/harness.ts';

const INSTANCES = 3;
let servers: ServerProcess[] = [];
const at = (i: number): string => servers[i % INSTANCES]!.url;

before(async () => {
  const env: Record<string, string> = REDIS_SKIP === false ? { REDIS_URL } : {};
  servers = await Promise.all(Array.from({ length: INSTANCES }, () => startServer(env)));
});
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await assertLedgerInvariants();
});

test('same-key storm round-robin over 3 instances: one debit, one body, only 200/409', async () => {
  const userId = await createFundedUser(at(0), '100.00');
  const key = newKey();
  const replies = await inParallel(600, 150, (i) => charge(at(i), userId, '1.00', key));
  const byStatus = countBy(replies, (r) => r.status);
  const ok = replies.filter((r) => r.status === 200);
  summary('scale same-key storm', {
    instances: INSTANCES,
    requests: replies.length,
    byStatus,
    executed: ok.filter((r) => !r.replayed).length,
  });
  assert.deepEqual(
    Object.keys(byStatus).filter((s) => s !== '200' && s !== '409'),
    [],
    'only 200 or 409',
  );
  for (const r of replies.filter((r) => r.status === 409))
    assert.equal(JSON.parse(r.body).code, 'idempotency_key_in_use');
  assert.equal(new Set(ok.map((r) => r.body)).size, 1, 'every success is the same response');
  assert.equal(ok.filter((r) => !r.replayed).length, 1, 'exactly one request executed');
  const truth = await assertConserved(userId, 10_000, new Set([key]), 100);
  assert.equal(truth.balanceMinor, 9_900, 'exactly one debit');
});

test('overdraft race round-robin over 3 instances: exactly N of 5N succeed, balance 0', async () => {
  const N = 60;
  const userId = await createFundedUser(at(1), `${N}.00`);
  const keys = Array.from({ length: 5 * N }, newKey);
  const replies = await inParallel(keys.length, 90, (i) => charge(at(i), userId, '1.00', keys[i]!));
  const byStatus = countBy(replies, (r) => r.status);
  summary('scale overdraft race', { instances: INSTANCES, funded: N, requests: keys.length, byStatus });
  assert.deepEqual(byStatus, { 200: N, 400: 4 * N });
  for (const r of replies.filter((r) => r.status === 400))
    assert.equal(JSON.parse(r.body).code, 'insufficient_balance');
  const succeeded = new Set(keys.filter((_, i) => replies[i]!.status === 200));
  const truth = await assertConserved(userId, N * 100, succeeded, 100);
  assert.equal(truth.balanceMinor, 0);
});
