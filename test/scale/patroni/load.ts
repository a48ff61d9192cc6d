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

export function startLoad(url: string, userIds: readonly number[], clients = 6): Load {
  const ops: Op[] = [];
  const sent: { key: string; userId: number }[] = [];
  const refundable: Charged[] = [];
  const readable: Charged[] = [];
  const refunds = new Map<string, Charged>(); // refund key → the charge it refunds
  let stopped = false;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

  const record = (op: Omit<Op, 'endedAt'>): Op => {
    const full = { ...op, endedAt: performance.now() };
    ops.push(full);
    return full;
  };
  const sendCharge = async (kind: 'charge' | 'replay', key: string, userId: number): Promise<Reply> => {
    const startedAt = performance.now();
    const reply = await charge(url, userId, '1.00', key);
    const op = record({ kind, key, userId, startedAt, reply });
    if (reply.status === 200 && !reply.replayed) {
      const charged = { key, userId, chargeId: JSON.parse(reply.body).transaction.id as number };
      refundable.push(charged);
      readable.push(charged);
    }
    return op.reply;
  };
  const sendRefund = async (key: string, chargeId: number, userId: number): Promise<Reply> => {
    const startedAt = performance.now();
    const reply = await post(url, `/charges/${chargeId}/refunds`, { amount: '0.10' }, key);
    return record({ kind: 'refund', key, userId, chargeId, startedAt, reply }).reply;
  };
  const read = async (target: Charged): Promise<Reply> => {
    const startedAt = performance.now();
    let reply: Reply;
    try {
      const res = await fetch(`${url}/charges/${target.chargeId}`, { headers: { 'x-api-key': CLIENT_KEY }, signal: AbortSignal.timeout(20_000) });
      reply = { status: res.status, body: await res.text(), replayed: false, retryAfter: res.headers.get('retry-after'), ms: performance.now() - startedAt };
    } catch {
      reply = { status: 0, body: '', replayed: false, retryAfter: null, ms: performance.now() - startedAt };
    }
    return record({ kind: 'read', key: target.key, userId: target.userId, chargeId: target.chargeId, startedAt, reply }).reply;
  };

  const step = async (): Promise<Reply> => {
    const r = Math.random();
    if (r < 0.5 || readable.length === 0) {
      const target = { key: newKey(), userId: pick(userIds) };
      sent.push(target);
      return sendCharge('charge', target.key, target.userId);
    }
    if (r < 0.7) {
      const target = pick(sent);
      return sendCharge('replay', target.key, target.userId);
    }
    if (r < 0.85 && refundable.length > 0) {
      // Each charge is refunded at most once (0.10 of 1.00), so every refund can succeed.
      const [target] = refundable.splice(Math.floor(Math.random() * refundable.length), 1);
      const key = newKey();
      refunds.set(key, target!);
      return sendRefund(key, target!.chargeId, target!.userId);
    }
    return read(pick(readable));
  };
  const client = async (): Promise<void> => {
    while (!stopped) {
      const reply = await step();
      if (!decisive(reply.status)) await new Promise((resolve) => setTimeout(resolve, PAUSE_AFTER_FAILURE_MS));
    }
  };
  const running = Promise.all(Array.from({ length: clients }, client));

  const undecided = (): { kind: 'charge' | 'refund'; key: string; userId: number }[] => {
    const decided = new Set(ops.filter((o) => o.kind !== 'read' && decisive(o.reply.status)).map((o) => o.key));
    const pending = sent.filter((s) => !decided.has(s.key)).map((s) => ({ kind: 'charge' as 'charge' | 'refund', ...s }));
    for (const [key, c] of refunds) if (!decided.has(key)) pending.push({ kind: 'refund', key, userId: c.userId });
    return pending;
  };

  return {
    ops,
    acked: (since = 0) => ops.filter((o) => o.kind === 'charge' && o.reply.status === 200 && !o.reply.replayed && o.startedAt >= since),
    stop: async () => {
      stopped = true;
      await running;
    },
    async settle(deadlineMs = 60_000) {
      const deadline = performance.now() + deadlineMs;
      const retried = new Set<string>();
      for (let pending = undecided(); pending.length > 0; pending = undecided()) {
        if (performance.now() > deadline) throw new Error(`${pending.length} keys still undecided after ${deadlineMs} ms`);
        for (const p of pending) {
          retried.add(p.key);
          if (p.kind === 'refund') await sendRefund(p.key, refunds.get(p.key)!.chargeId, p.userId);
          else await sendCharge('replay', p.key, p.userId);
        }
        if (undecided().length > 0) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return retried.size;
    },
  };
}

/** Status counts and latency of a set of operations, for the summary lines. */
export function describeOps(ops: readonly Op[]): { byStatus: Record<string, number>; p99Ms: number; maxMs: number } {
  const byStatus: Record<string, number> = {};
  for (const o of ops) byStatus[`${o.kind}:${o.reply.status}`] = (byStatus[`${o.kind}:${o.reply.status}`] ?? 0) + 1;
  const ms = ops.map((o) => o.reply.ms);
  return { byStatus, p99Ms: Math.round(percentile(ms, 99)), maxMs: Math.round(Math.max(0, ...ms)) };
}
