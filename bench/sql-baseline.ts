// SQL baseline: the charge's own statement (exactly what PicoPay sends per charge) from a Node loop with the same
// driver, pool size and number of requests in flight — what the database can do without HTTP.
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { DEFAULT_RETENTION, retentionIntervals } from '../src/idempotency/retention.ts';
import { CHARGE_SQL } from '../src/payments/repository.ts';
import type { Measurement } from './load.ts';

export async function sqlBaseline(
  databaseUrl: string,
  options: { poolSize: number; inFlight: number; warmupMs: number; durationMs: number; pickUser: () => number },
): Promise<Measurement> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize });
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let done = 0;
  const stopAt = Date.now() + options.warmupMs + options.durationMs;
  setTimeout(() => (measuring = true), options.warmupMs);
  const loop = async (): Promise<void> => {
    while (Date.now() < stopAt) {
      const key = randomUUID();
      const started = performance.now();
      try {
        await pool.query({
          name: 'picopay_charge',
          text: CHARGE_SQL,
          values: [
            'bench-sql',
            key,
            createHash('sha256').update(key).digest(),
            options.pickUser(),
            'USD',
            '1',
            null,
            '{}',
            ...retentionIntervals(DEFAULT_RETENTION),
          ],
        });
        if (measuring) {
          latencies.push(performance.now() - started);
          done++;
        }
      } catch {
        if (measuring) errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, loop));
  await pool.end();
  latencies.sort((a, b) => a - b);
  const at = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return { rps: done / (options.durationMs / 1000), p50: at(50), p99: at(99), errors, non2xx: 0 };
}
