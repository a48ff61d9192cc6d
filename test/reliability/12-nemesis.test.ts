// Scenario 12: randomised nemesis — a seeded mix of the faults above under mixed load. CI runs NEMESIS_SEEDS seeds
// (default 3) from NEMESIS_FROM (default 1); `npm run nemesis -- --seeds 100` runs more. A failure names its seed.
import { test } from 'node:test';
import { REDIS_SKIP } from '../helpers/app.ts';
import { summary } from './harness.ts';
import { runNemesis } from './nemesis.ts';

const seeds = Number(process.env.NEMESIS_SEEDS ?? 3);
const from = Number(process.env.NEMESIS_FROM ?? 1);

for (let seed = from; seed < from + seeds; seed++) {
  test(
    `nemesis seed ${seed}: every key decided once, holds settled once, money conserved`,
    { skip: REDIS_SKIP },
    async () => {
      const result = await runNemesis(seed);
      summary(`12 nemesis seed=${seed}`, {
        faults: result.faults.join(','),
        keys: result.keys,
        charged: result.charged,
        holds: result.holds,
        byStatus: result.statuses,
      });
    },
  );
}
