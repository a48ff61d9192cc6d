// The load shapes of `npm run bench`: what each scenario sends, built per request so keys never repeat by accident.
import { randomUUID } from 'node:crypto';

export interface RequestShape {
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Which baseline its ratio is taken against. */
  readonly baseline: 'sql-unique' | 'sql-hot' | 'http';
  readonly redis: 'up' | 'down';
  /** The server it runs against: the default one (group commit on), or one with BATCH_ENABLED=false. */
  readonly server?: 'unbatched';
  next(): RequestShape;
  /** fresh: every key is new (wrk suffixes them per run and lap); fixed: the keys are replayed as written. */
  readonly keys: 'fresh' | 'fixed';
}

export interface ScenarioContext {
  readonly apiKey: string;
  readonly users: readonly number[];
  readonly hotUser: number;
  /** Keys already charged (for replay scenarios), all for hotUser... see replayKeys' user below. */
  readonly replayKeys: readonly { key: string; userId: number }[];
}

const chargeShape = (apiKey: string, userId: number, key: string): RequestShape => ({
  path: '/charge',
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'idempotency-key': key },
  body: `{"user_id":${userId},"amount":"0.01","currency":"USD"}`,
});

/** The HTTP baseline's load: the same body a charge sends, to the bare route (no key: nothing to be idempotent about). */
export const BASELINE_HTTP: { readonly keys: 'fixed'; next(): RequestShape } = {
  keys: 'fixed',
  next: () => ({
    path: '/charge',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"user_id":1,"amount":"0.01","currency":"USD"}',
  }),
};

/** Charges each key once through a server, so that the replay scenarios replay them (through its caches). */
export async function chargeReplayKeys(
  target: string,
  apiKey: string,
  keys: ScenarioContext['replayKeys'],
): Promise<void> {
  for (const r of keys) {
    const shape = chargeShape(apiKey, r.userId, r.key);
    await fetch(`${target}${shape.path}`, { method: shape.method, headers: shape.headers, body: shape.body });
  }
}

export function scenarios(ctx: ScenarioContext): Scenario[] {
  const pickUser = (): number => ctx.users[Math.floor(Math.random() * ctx.users.length)]!;
  const uniqueCharge = (): RequestShape => chargeShape(ctx.apiKey, pickUser(), randomUUID());
  const replay = (): RequestShape => {
    const r = ctx.replayKeys[Math.floor(Math.random() * ctx.replayKeys.length)]!;
    return chargeShape(ctx.apiKey, r.userId, r.key);
  };
  const recent: { key: string; userId: number }[] = [];
  const mixed = (): RequestShape => {
    if (recent.length > 0 && Math.random() < 0.1) {
      const r = recent[Math.floor(Math.random() * recent.length)]!;
      return chargeShape(ctx.apiKey, r.userId, r.key);
    }
    const entry = { key: randomUUID(), userId: pickUser() };
    if (recent.length < 10_000) recent.push(entry);
    else recent[Math.floor(Math.random() * recent.length)] = entry;
    return chargeShape(ctx.apiKey, entry.userId, entry.key);
  };
  return [
    {
      name: 'unique',
      description: 'unique charges over 10,000 funded users',
      baseline: 'sql-unique',
      redis: 'up',
      keys: 'fresh',
      next: uniqueCharge,
    },
    {
      name: 'hot-account',
      description: 'every charge against one user',
      baseline: 'sql-hot',
      redis: 'up',
      keys: 'fresh',
      next: () => chargeShape(ctx.apiKey, ctx.hotUser, randomUUID()),
    },
    {
      name: 'replays',
      description: 'the same 20 keys repeated (cache hits)',
      baseline: 'http',
      redis: 'up',
      keys: 'fixed',
      next: replay,
    },
    {
      name: 'mixed',
      description: '90 % new charges, 10 % retries of earlier keys',
      baseline: 'sql-unique',
      redis: 'up',
      keys: 'fresh',
      next: mixed,
    },
    {
      name: 'unique-unbatched',
      description: 'scenario unique, BATCH_ENABLED=false',
      baseline: 'sql-unique',
      redis: 'up',
      server: 'unbatched',
      keys: 'fresh',
      next: uniqueCharge,
    },
    {
      name: 'hot-account-unbatched',
      description: 'scenario hot-account, BATCH_ENABLED=false',
      baseline: 'sql-hot',
      redis: 'up',
      server: 'unbatched',
      keys: 'fresh',
      next: () => chargeShape(ctx.apiKey, ctx.hotUser, randomUUID()),
    },
    {
      name: 'unique-redis-down',
      description: 'scenario unique, Redis configured but unreachable',
      baseline: 'sql-unique',
      redis: 'down',
      keys: 'fresh',
      next: uniqueCharge,
    },
    {
      name: 'replays-redis-down',
      description: 'scenario replays, Redis configured but unreachable',
      baseline: 'http',
      redis: 'down',
      keys: 'fixed',
      next: replay,
    },
  ];
}
