import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/pool.ts';
import { holdRepository } from './repository.ts';

/** Accounts settled per sweep: one sweep is one short transaction; a backlog takes several intervals. */
const SWEEP_ACCOUNTS = 500;

export interface Sweeper {
  stop(): void;
}

/**
 * Settles expired holds every `intervalMs`, so available balances are right even when nobody touches the account
 * (operations on the account or the hold also settle them, lazily). Every instance runs one; the SQL function's
 * advisory lock lets one sweep at a time; onExpired hears how many holds a sweep released. A failed sweep is logged and retried at the next tick; ticks never overlap.
 */
export function startSweeper(
  db: Db,
  intervalMs: number,
  log: FastifyBaseLogger,
  onExpired: (holds: number) => void = () => {},
): Sweeper {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async (): Promise<void> => {
    try {
      const holds = await holdRepository.expire(db, SWEEP_ACCOUNTS);
      if (holds > 0) {
        onExpired(holds);
        log.info({ holds }, 'expired holds released');
      }
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'hold sweep failed');
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs).unref();
  };
  timer = setTimeout(() => void tick(), intervalMs).unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
