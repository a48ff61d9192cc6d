// WEB_CONCURRENCY=2: two workers behind one port (node:cluster) keep the exactly-once guarantee across workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertConserved, charge, createFundedUser, inParallel, newKey, startServer } from '../reliability/harness.ts';

test('two workers serve one port; a same-key storm across them debits once; SIGTERM drains both', async () => {
  const server = await startServer({ WEB_CONCURRENCY: '2', LOG_LEVEL: 'info' });
  try {
    const userId = await createFundedUser(server.url, '10.00');
    const key = newKey();
    const replies = await inParallel(200, 50, () => charge(server.url, userId, '1.00', key));
    assert.deepEqual([...new Set(replies.map((r) => r.status))], [200]);
    assert.equal(new Set(replies.map((r) => r.body)).size, 1);
    assert.equal(replies.filter((r) => !r.replayed).length, 1);
    await assertConserved(userId, 1000, new Set([key]), 100);
    const pids = new Set(
      server
        .output()
        .split('\n')
        .filter((line) => line.includes('"request completed"') && line.includes('"url":"/charge"'))
        .map((line) => JSON.parse(line).pid),
    );
    assert.equal(pids.size, 2, 'both workers answered charges');
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0);
  }
});
