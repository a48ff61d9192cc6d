// Mixed load for the failover tests: several closed-loop clients send new charges, replays of earlier charge keys,
// partial refunds of acknowledged charges and reads of them (served by the replica path), recording every answer.
// After a fault, settle() retries every key still undecided with the same Idempotency-Key until it has an answer.
import { CLIENT_KEY, charge, newKey, percentile, post, type Reply } from '../../reliability/harness.ts';

export type OpKind = 'charge' | 'replay' | 'refund' | 'read';

export interface Op {
  readonly kind: OpKind;
  readonly key: string;
  readonly userId: number;
  readonly chargeId?: number;
  /** performance.now() when sent and when answered. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly reply: Reply;
}

export const CHARGE_MINOR = 100; // '1.00'
export const REFUND_MINOR = 10; // '0.10'
// A client that got no answer (503) backs off this long: the load stays a load, not a busy loop on 2 cores.
const PAUSE_AFTER_FAILURE_MS = 100;

interface Charged {
  readonly key: string;
  readonly userId: number;
  readonly chargeId: number;
}

export interface Load {
  readonly ops: readonly Op[];
  /** New charges acknowledged (200, not replayed) that were sent at or after `since`. */
  acked(since?: number): Op[];
  /** Stops the clients; resolves when all have returned. */
  stop(): Promise<void>;
  /** Retries every charge and refund key that has no decisive answer yet, until it has one (bounded). */
  settle(deadlineMs?: number): Promise<number>;
}

const decisive = (status: number): boolean => status !== 0 && status !== 503 && status !== 409;
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class MixedLoad implements Load {
  readonly ops: Op[] = [];
  private readonly sent: { key: string; userId: number }[] = [];
  private readonly refundable: Charged[] = [];
  private readonly readable: Charged[] = [];
  private readonly refunds = new Map<string, Charged>(); // refund key → the charge it refunds
  private stopped = false;
  private readonly running: Promise<unknown>;
  private readonly url: string;
  private readonly userIds: readonly number[];

  constructor(url: string, userIds: readonly number[], clients: number) {
    this.url = url;
    this.userIds = userIds;
    this.running = Promise.all(Array.from({ length: clients }, () => this.client()));
  }

  acked(since = 0): Op[] {
    return this.ops.filter(
      (o) => o.kind === 'charge' && o.reply.status === 200 && !o.reply.replayed && o.startedAt >= since,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  async settle(deadlineMs = 60_000): Promise<number> {
    const deadline = performance.now() + deadlineMs;
    const retried = new Set<string>();
    for (let pending = this.undecided(); pending.length > 0; pending = this.undecided()) {
      if (performance.now() > deadline)
        throw new Error(`${pending.length} keys still undecided after ${deadlineMs} ms`);
      for (const { key, userId } of pending) {
        retried.add(key);
        const refunded = this.refunds.get(key);
        if (refunded !== undefined) await this.refund(key, refunded);
        else await this.charge('replay', key, userId);
      }
      if (this.undecided().length > 0) await pause(250);
    }
    return retried.size;
  }

  private async client(): Promise<void> {
    while (!this.stopped) {
      const reply = await this.step();
      if (!decisive(reply.status)) await pause(PAUSE_AFTER_FAILURE_MS);
    }
  }

  private step(): Promise<Reply> {
    const r = Math.random();
    if (r < 0.5 || this.readable.length === 0) {
      const target = { key: newKey(), userId: pick(this.userIds) };
      this.sent.push(target);
      return this.charge('charge', target.key, target.userId);
    }
    if (r < 0.7) {
      const target = pick(this.sent);
      return this.charge('replay', target.key, target.userId);
    }
    if (r < 0.85 && this.refundable.length > 0) {
      // Each charge is refunded at most once (0.10 of 1.00), so every refund can succeed.
      const [target] = this.refundable.splice(Math.floor(Math.random() * this.refundable.length), 1);
      const key = newKey();
      this.refunds.set(key, target!);
      return this.refund(key, target!);
    }
    return this.read(pick(this.readable));
  }

  private record(op: Omit<Op, 'endedAt'>): Reply {
    this.ops.push({ ...op, endedAt: performance.now() });
    return op.reply;
  }

  private async charge(kind: 'charge' | 'replay', key: string, userId: number): Promise<Reply> {
    const startedAt = performance.now();
    const reply = await charge(this.url, userId, '1.00', key);
    if (reply.status === 200 && !reply.replayed) {
      const charged = { key, userId, chargeId: JSON.parse(reply.body).transaction.id as number };
      this.refundable.push(charged);
      this.readable.push(charged);
    }
    return this.record({ kind, key, userId, startedAt, reply });
  }

  private async refund(key: string, target: Charged): Promise<Reply> {
    const startedAt = performance.now();
    const reply = await post(this.url, `/charges/${target.chargeId}/refunds`, { amount: '0.10' }, key);
    return this.record({ kind: 'refund', key, userId: target.userId, chargeId: target.chargeId, startedAt, reply });
  }

  private async read(target: Charged): Promise<Reply> {
    const startedAt = performance.now();
    let reply: Reply = { status: 0, body: '', replayed: false, retryAfter: null, ms: 0 };
    try {
      const res = await fetch(`${this.url}/charges/${target.chargeId}`, {
        headers: { 'x-api-key': CLIENT_KEY },
        signal: AbortSignal.timeout(20_000),
      });
      reply = { ...reply, status: res.status, body: await res.text(), retryAfter: res.headers.get('retry-after') };
    } catch {
      // no answer: status 0
    }
    reply = { ...reply, ms: performance.now() - startedAt };
    return this.record({
      kind: 'read',
      key: target.key,
      userId: target.userId,
      chargeId: target.chargeId,
      startedAt,
      reply,
    });
  }

  /** Charge and refund keys without a decisive answer so far. */
  private undecided(): { key: string; userId: number }[] {
    const decided = new Set(this.ops.filter((o) => o.kind !== 'read' && decisive(o.reply.status)).map((o) => o.key));
    const pending = this.sent.filter((s) => !decided.has(s.key));
    for (const [key, c] of this.refunds) if (!decided.has(key)) pending.push({ key, userId: c.userId });
    return pending;
  }
}

/** Starts `clients` closed-loop clients on `url`, charging and refunding `userIds`. */
export function startLoad(url: string, userIds: readonly number[], clients = 6): Load {
  return new MixedLoad(url, userIds, clients);
}

/** Status counts and latency of a set of operations, for the summary lines. */
export function describeOps(ops: readonly Op[]): { byStatus: Record<string, number>; p99Ms: number; maxMs: number } {
  const byStatus: Record<string, number> = {};
  for (const o of ops) byStatus[`${o.kind}:${o.reply.status}`] = (byStatus[`${o.kind}:${o.reply.status}`] ?? 0) + 1;
  const ms = ops.map((o) => o.reply.ms);
  return { byStatus, p99Ms: Math.round(percentile(ms, 99)), maxMs: Math.round(Math.max(0, ...ms)) };
}
