import type { Db } from '../db/pool.ts';
import { ProblemError } from '../lib/errors.ts';
import { paymentRepository, type PaymentRepository } from './repository.ts';
import type { MoneyCall, OutcomeRow } from './types.ts';

export interface BatchSettings {
  /** Most charges in one transaction. */
  readonly maxSize: number;
  /** Longest a charge waits for company when batches are already running. */
  readonly maxWaitMs: number;
  /** Batches allowed in flight before new charges start to wait for company. */
  readonly maxInFlight: number;
  /** Charges waiting for one account before more are refused with 503 overloaded (default 1,000). */
  readonly maxQueuedPerAccount?: number;
  /** Charges waiting in all, whatever their accounts (default 100,000): memory stays bounded. */
  readonly maxQueued?: number;
}

export interface BatcherStats {
  /** Charges waiting (not yet in a batch). */
  readonly waiting: number;
  /** Queue entries and accounts touched so far by arrivals and batch starts: the cost model tests hold O(1). */
  readonly examined: number;
}

export interface ChargeBatcher {
  /** `deadline` (performance.now() time): a charge still waiting then is dropped unsent (its caller was answered). */
  charge(call: MoneyCall, deadline?: number): Promise<OutcomeRow>;
  stats(): BatcherStats;
}

export interface BatchEvents {
  batch(size: number): void;
  retry(size: number): void;
  /** A charge refused because its account's queue (or the whole queue) is full. */
  shed?(): void;
}

interface Waiting {
  readonly call: MoneyCall;
  readonly deadline: number;
  resolve(row: OutcomeRow): void;
  reject(error: unknown): void;
}

/** A FIFO with O(1) push and shift (Array#shift is O(n)); the consumed head is compacted away now and then. */
export class Queue<T> {
  #items: T[] = [];
  #head = 0;
  get length(): number {
    return this.#items.length - this.#head;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head]!;
    this.#head++;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

// A deadlock can still involve a batch when a credit or refund (which claim the key before locking the account)
// uses the key of a charge in flight: PostgreSQL aborts one side and the batch is simply run again, once.
const RETRY_ONCE = new Set(['40P01', '40001']);

/** One transaction for the items; each caller gets its own row, or the batch's error. */
async function sendBatch(
  db: Db,
  repository: PaymentRepository,
  events: BatchEvents,
  items: readonly Waiting[],
): Promise<void> {
  events.batch(items.length);
  const calls = items.map((i) => i.call);
  try {
    let rows: OutcomeRow[];
    try {
      rows = await repository.chargeBatch(db, calls);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !RETRY_ONCE.has(code)) throw error;
      events.retry(items.length);
      rows = await repository.chargeBatch(db, calls);
    }
    items.forEach((item, index) => item.resolve(rows[index]!));
  } catch (error) {
    for (const item of items) item.reject(error);
  }
}

/** Charges on one account serialise on its row lock whatever we do; the batcher keeps them together instead. */
const accountOf = (call: MoneyCall): string => `${call.userId}:${call.currency}`;

const queueFull = (): ProblemError =>
  new ProblemError('overloaded', 'Too many charges are waiting for this account; retry with the same Idempotency-Key');
const expired = (): ProblemError =>
  new ProblemError('overloaded', 'The charge waited past its deadline and was not sent; nothing was written');

/**
 * The waiting charges, one FIFO per account, and the accounts that are free to go (waiting, not in a running batch)
 * in the order they became free. An arrival costs O(1) and a batch start O(items taken + accounts visited), whatever
 * the queue's length: the single list this replaces was re-scanned on every arrival once 50 waited.
 */
class AccountQueues {
  readonly #queues = new Map<string, Queue<Waiting>>();
  /** Accounts with waiting charges and no running batch; a Set iterates in insertion order. */
  readonly #ready = new Set<string>();
  /** Accounts in running batches, with how many batches hold each. */
  readonly #busy = new Map<string, number>();
  waiting = 0;
  /** Charges waiting on ready accounts: what the next batch can take. */
  readyItems = 0;
  examined = 0;

  /** False when the account's queue or the whole queue is full. */
  add(item: Waiting, perAccount: number, total: number): boolean {
    this.examined++;
    const account = accountOf(item.call);
    let queue = this.#queues.get(account);
    if (this.waiting >= total || (queue?.length ?? 0) >= perAccount) return false;
    if (queue === undefined) this.#queues.set(account, (queue = new Queue()));
    queue.push(item);
    this.waiting++;
    if (!this.#busy.has(account)) {
      this.#ready.add(account);
      this.readyItems++;
    }
    return true;
  }

  /** Up to `max` live charges of free accounts, oldest account first, each account's in arrival order. */
  take(max: number, now: number): { items: Waiting[]; accounts: string[] } {
    const items: Waiting[] = [];
    const accounts: string[] = [];
    for (const account of this.#ready) {
      if (items.length >= max) break;
      this.examined++;
      const queue = this.#queues.get(account)!;
      const before = items.length;
      while (queue.length > 0 && items.length < max) {
        const item = queue.shift()!;
        this.examined++;
        this.waiting--;
        this.readyItems--;
        if (item.deadline <= now) item.reject(expired());
        else items.push(item);
      }
      this.#ready.delete(account);
      // What is left of the account waits for the batch to end (it would queue on the row lock anyway).
      this.readyItems -= queue.length;
      if (queue.length === 0) this.#queues.delete(account);
      // An account whose charges had all expired is left with an empty queue: nothing to hold.
      if (items.length > before) {
        accounts.push(account);
        this.#busy.set(account, (this.#busy.get(account) ?? 0) + 1);
      }
    }
    return { items, accounts };
  }

  /** A batch ended: its accounts' waiting charges may go again. */
  release(accounts: readonly string[]): void {
    for (const account of accounts) {
      const held = this.#busy.get(account)! - 1;
      if (held > 0) {
        this.#busy.set(account, held);
        continue;
      }
      this.#busy.delete(account);
      const queue = this.#queues.get(account);
      if (queue !== undefined) {
        this.#ready.add(account);
        this.readyItems += queue.length;
      }
    }
  }
}

/**
 * Group commit for charges. A charge goes out at once while fewer than maxInFlight batches run (no added latency at
 * low load); otherwise it waits for company until a batch finishes, maxSize charges can go, or maxWaitMs passes, and
 * they all go in one transaction and one round trip. A charge whose account is already in a running batch waits for
 * that batch instead: it would only queue behind the batch on the account's row lock, holding a connection and
 * splitting the account's charges into small batches (a hot account: 2,635 charges/s with four batches on it at
 * once, 3,687/s with one, same machine and load). Lone charges take the batch function too, so every charge locks
 * its account before its key (db/functions/picopay_charge_batch.sql). Each item gets the outcome picopay_charge would
 * give it, in arrival order per account; a failed batch is all-or-nothing in the database, and its callers get the
 * error (503). Past maxQueuedPerAccount (or maxQueued) a charge is refused at once (503 overloaded), and a charge
 * whose deadline passed while it waited is dropped unsent: nothing is written for either.
 */
export function createChargeBatcher(
  db: Db,
  settings: BatchSettings,
  events: BatchEvents,
  repository: PaymentRepository = paymentRepository,
): ChargeBatcher {
  const queues = new AccountQueues();
  const perAccount = settings.maxQueuedPerAccount ?? 1000;
  const total = settings.maxQueued ?? 100_000;
  let timer: NodeJS.Timeout | undefined;
  let inFlight = 0;

  /** Starts one batch of the waiting charges whose accounts are free; false when there is none. */
  const startBatch = (): boolean => {
    const { items, accounts } = queues.take(settings.maxSize, performance.now());
    if (items.length === 0) return false;
    inFlight++;
    void sendBatch(db, repository, events, items).finally(() => {
      inFlight--;
      queues.release(accounts);
      // Freed accounts' charges go now, as many batches as there are free slots.
      while (queues.readyItems > 0 && inFlight < settings.maxInFlight && startBatch());
      if (queues.waiting === 0) stopTimer();
    });
    return true;
  };

  const stopTimer = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
  };

  const flush = (): void => {
    stopTimer();
    startBatch();
  };

  return {
    charge(call, deadline = Number.POSITIVE_INFINITY) {
      return new Promise<OutcomeRow>((resolve, reject) => {
        if (!queues.add({ call, deadline, resolve, reject }, perAccount, total)) {
          events.shed?.();
          return reject(queueFull());
        }
        if ((inFlight < settings.maxInFlight && queues.readyItems > 0) || queues.readyItems >= settings.maxSize) {
          flush();
        } else if (queues.readyItems > 0) timer ??= setTimeout(flush, settings.maxWaitMs);
      });
    },
    stats: () => ({ waiting: queues.waiting, examined: queues.examined }),
  };
}
