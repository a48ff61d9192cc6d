// The nemesis's holds: authorize, then capture (part or all), void, or both at once, or nothing while the hold
// expires (the server's sweeper releases it), on the same account as the charges, while the faults strike. Every
// key must end with one decision; of each hold's settlers exactly one wins unless it expired, the losers get a
// stable code; what the holds took is exactly the captured amounts.
import assert from 'node:assert/strict';
import pg from 'pg';
import { ADMIN_KEY, CLIENT_KEY, DATABASE_URL, inParallel, newKey, post, type Reply } from './harness.ts';

interface Settle {
  readonly key: string;
  readonly kind: 'capture' | 'void';
  /** Minor units; undefined: the whole hold. */
  readonly amount?: number;
  /** An admin key may settle the shop's hold too (authorizations:any). */
  readonly apiKey: string;
}

interface Story {
  readonly authKey: string;
  readonly amount: number;
  readonly expiring: boolean;
  readonly settles: readonly Settle[];
  id?: number;
}

const LOSER_CODES = new Set(['authorization_already_captured', 'authorization_not_pending', 'authorization_expired']);

const codeOf = (reply: Reply): string | undefined => {
  try {
    return (JSON.parse(reply.body) as { code?: string }).code;
  } catch {
    return undefined;
  }
};

/** A decision: a 2xx, or a 4xx other than "the key is busy right now". */
const decided = (r: Reply): boolean =>
  r.status >= 200 && r.status < 500 && !(r.status === 409 && codeOf(r) === 'idempotency_key_in_use');

export class HoldPlay {
  private readonly stories: Story[] = [];
  private readonly replies = new Map<string, Reply[]>();

  private readonly random: () => number;
  private readonly url: () => string;
  private readonly userId: number;
  private readonly onReply: (reply: Reply) => void;

  constructor(random: () => number, url: () => string, userId: number, onReply: (reply: Reply) => void) {
    this.random = random;
    this.url = url;
    this.userId = userId;
    this.onReply = onReply;
  }

  /** A new hold's whole story, run at once: authorize, then its settlers concurrently. */
  async play(): Promise<void> {
    const story = this.newStory();
    await this.authorize(story);
    // A 1-second hold's capture comes later (a replay pick, or after the faults): it races the expiry and the sweeper.
    if (!story.expiring) await Promise.all(story.settles.map((s) => this.settle(story, s)));
  }

  /** An earlier key sent again with its body: a replay, or the first decision if it had none. */
  async replayOne(): Promise<void> {
    const known = this.stories.filter((s) => s.id !== undefined);
    if (known.length === 0) return this.play();
    const story = known[Math.floor(this.random() * known.length)]!;
    const settle = story.settles[Math.floor(this.random() * story.settles.length)];
    await (settle === undefined ? this.authorize(story) : this.settle(story, settle));
  }

  /** After the faults: every key without a decision is sent again (authorize first: settles need the hold). */
  async decideAll(): Promise<void> {
    for (let pass = 0; pass < 3; pass++) {
      const authorizing = this.stories.filter((s) => !this.isDecided(s.authKey));
      await inParallel(authorizing.length, 10, (i) => this.authorize(authorizing[i]!));
      const settling = this.stories.flatMap((s) =>
        s.id === undefined ? [] : s.settles.filter((x) => !this.isDecided(x.key)).map((x) => [s, x] as const),
      );
      await inParallel(settling.length, 10, (i) => this.settle(...settling[i]!));
    }
  }

  /** Checks every key and hold; returns Σ captured (minor units) and the capture keys that made a charge entry. */
  async check(context: string): Promise<{ capturedMinor: number; captureKeys: Set<string> }> {
    const rows = await holdsOf(this.userId);
    const captureKeys = new Set<string>();
    let capturedMinor = 0;
    for (const story of this.stories) {
      const auth = this.decision(story.authKey, context);
      assert.equal(auth.status, 201, `${context}: funded hold ${story.authKey} is authorized`);
      const row = rows.get(story.authKey);
      assert.ok(row !== undefined && row.count === 1, `${context}: one hold per key ${story.authKey}`);
      const winners = story.settles.filter((s) => this.decision(s.key, context).status === 200);
      for (const s of story.settles) {
        const reply = this.decision(s.key, context);
        if (reply.status !== 200)
          assert.ok(LOSER_CODES.has(codeOf(reply) ?? ''), `${context}: settle ${s.key} lost with ${reply.body}`);
      }
      assert.ok(winners.length <= 1, `${context}: at most one settler of hold ${row.id} wins`);
      const won = winners[0];
      const expected = won === undefined ? 'expired' : won.kind === 'capture' ? 'captured' : 'voided';
      assert.equal(row.status, expected, `${context}: hold ${row.id} ends ${expected}`);
      if (won?.kind === 'capture') {
        assert.equal(row.captured, won.amount ?? story.amount, `${context}: hold ${row.id} captured as asked`);
        capturedMinor += row.captured;
        captureKeys.add(won.key);
      }
    }
    return { capturedMinor, captureKeys };
  }

  get count(): number {
    return this.stories.length;
  }

  private newStory(): Story {
    const amount = [200, 500, 1500][Math.floor(this.random() * 3)]!;
    const roll = this.random();
    // A fifth expire (1 s, then the sweeper); a fifth race capture against void and capture; the rest settle once.
    const expiring = roll < 0.2;
    const settle = (kind: Settle['kind']): Settle => ({
      key: newKey(),
      kind,
      amount: kind === 'capture' && this.random() < 0.5 ? Math.floor(amount / 2) : undefined,
      apiKey: this.random() < 0.2 ? ADMIN_KEY : CLIENT_KEY,
    });
    // Half the 1-second holds also get a capture, sent late (see play).
    const settles = expiring
      ? this.random() < 0.5
        ? [settle('capture')]
        : []
      : roll < 0.4
        ? [settle('capture'), settle('void'), settle('capture')]
        : [settle(this.random() < 0.6 ? 'capture' : 'void')];
    const story: Story = { authKey: newKey(), amount, expiring, settles };
    this.stories.push(story);
    return story;
  }

  private async authorize(story: Story): Promise<void> {
    const body = {
      user_id: this.userId,
      amount: (story.amount / 100).toFixed(2),
      currency: 'USD',
      expires_in_seconds: story.expiring ? 1 : 3600,
    };
    const reply = await this.send(story.authKey, '/authorizations', body, CLIENT_KEY);
    if (reply.status === 201) story.id = (JSON.parse(reply.body) as { id: number }).id;
  }

  private async settle(story: Story, s: Settle): Promise<void> {
    if (story.id === undefined) return;
    const body = s.amount === undefined ? {} : { amount: (s.amount / 100).toFixed(2) };
    await this.send(s.key, `/authorizations/${story.id}/${s.kind}`, body, s.apiKey);
  }

  private async send(key: string, route: string, body: unknown, apiKey: string): Promise<Reply> {
    const reply = await post(this.url(), route, body, key, apiKey);
    this.replies.set(key, [...(this.replies.get(key) ?? []), reply]);
    this.onReply(reply);
    return reply;
  }

  private isDecided(key: string): boolean {
    return (this.replies.get(key) ?? []).some(decided);
  }

  /** The key's one decision: all its decided replies are byte-identical. */
  private decision(key: string, context: string): Reply {
    const list = (this.replies.get(key) ?? []).filter(decided);
    assert.ok(list.length > 0, `${context}: key ${key} ends with a decision`);
    assert.equal(new Set(list.map((r) => `${r.status} ${r.body}`)).size, 1, `${context}: one outcome per key ${key}`);
    return list[0]!;
  }
}

interface HoldRow {
  readonly id: number;
  readonly status: string;
  readonly captured: number;
  readonly count: number;
}

/** The user's holds by idempotency key, once the sweeper has expired the 1-second holds (bounded poll). */
async function holdsOf(userId: number): Promise<Map<string, HoldRow>> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const deadline = Date.now() + 15_000;
    const overdue = async () =>
      (
        await client.query(
          `SELECT count(*)::int AS n FROM authorizations WHERE user_id = $1 AND status = 'pending' AND expires_at <= now() + interval '1 minute'`,
          [userId],
        )
      ).rows[0].n as number;
    while ((await overdue()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const rows = await client.query(
      `SELECT idempotency_key, min(id)::int AS id, min(status) AS status, sum(captured)::int AS captured,
              count(*)::int AS count
         FROM authorizations WHERE user_id = $1 GROUP BY idempotency_key`,
      [userId],
    );
    return new Map(rows.rows.map((r) => [r.idempotency_key as string, r as HoldRow]));
  } finally {
    await client.end();
  }
}
