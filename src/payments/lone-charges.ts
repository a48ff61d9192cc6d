import { ProblemError } from '../lib/errors.ts';
import { Queue } from './batcher.ts';

/**
 * BATCH_ENABLED=false: each charge is its own transaction on its own pool connection. pg's pool bounds the wait for
 * a free client with the same setting that bounds opening a connection (DB_CONNECT_TIMEOUT_MS, 2 s), so a burst of
 * 1,000 charges on a pool of 10 had two thirds of them answered 503 database_unavailable while the database was
 * healthy and busy. The gate lets at most `limit` charges (the pool size) at the pool at once and queues the rest
 * here, in arrival order: a queued charge waits until its request deadline (REQUEST_DEADLINE_MS, answered
 * outcome_unknown by then; dropped unsent when reached), the pool wait behind the gate is only for opening a
 * connection, and past `maxWaiting` queued charges a new one gets 503 overloaded at once. Nothing is written for a
 * dropped or refused charge.
 */
export interface LoneChargeGate {
  /** Runs `work` when a slot is free; `deadline` (performance.now() time) bounds the wait for it. */
  run<T>(work: () => Promise<T>, deadline?: number): Promise<T>;
  /** Charges queued for a slot. */
  readonly waiting: number;
}

interface Waiter {
  readonly deadline: number;
  start(): void;
  reject(error: unknown): void;
}

const queueFull = (): ProblemError =>
  new ProblemError('overloaded', 'Too many charges are waiting for the database; retry with the same Idempotency-Key');
const expired = (): ProblemError =>
  new ProblemError('overloaded', 'The charge waited past its deadline and was not sent; nothing was written');

export function createLoneChargeGate(limit: number, maxWaiting: number, shed?: () => void): LoneChargeGate {
  const queue = new Queue<Waiter>();
  let running = 0;

  /** A slot was freed: the oldest live waiter takes it; the expired ones are dropped on the way (O(1) each). */
  const release = (): void => {
    running--;
    const now = performance.now();
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (next.deadline <= now) {
        next.reject(expired());
        continue;
      }
      next.start();
      return;
    }
  };

  return {
    run<T>(work: () => Promise<T>, deadline = Number.POSITIVE_INFINITY): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const start = (): void => {
          running++;
          work().then(resolve, reject).finally(release);
        };
        if (running < limit) return start();
        if (queue.length >= maxWaiting) {
          shed?.();
          return reject(queueFull());
        }
        queue.push({ deadline, start, reject });
      });
    },
    get waiting() {
      return queue.length;
    },
  };
}
