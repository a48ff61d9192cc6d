// `npm run nemesis -- --seeds 100 [--from 1]`: scenario 12 with more seeds, through the normal test runner (which
// provides PostgreSQL and Redis).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { seeds: { type: 'string', default: '10' }, from: { type: 'string', default: '1' } },
});
const run = spawnSync(
  process.execPath,
  ['--import', 'tsx', path.join(import.meta.dirname, '..', 'run.ts'), 'reliability/12-nemesis'],
  {
    stdio: 'inherit',
    env: { ...process.env, NEMESIS_SEEDS: values.seeds, NEMESIS_FROM: values.from },
  },
);
process.exit(run.status ?? 1);
