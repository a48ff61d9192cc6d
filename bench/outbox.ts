// The unique-webhook row of `npm run bench`: what the outbox costs a charge once somebody listens. Every charge
// writes its event whether or not an endpoint exists (the outbox is part of the money transaction; `unique` already
// pays for it); with an endpoint registered the server also relays each charge.succeeded to it, signed, one request at
// a time per endpoint. The receiver is a local node:http server answering 204 (allowlisted: it is on loopback). The
// row is taken against `unique` from the same run, and the relay's progress at the end of the run is reported:
// events published, delivered, and the backlog left.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { measure, type Generator } from './load.ts';
import type { Row } from './report.ts';
import type { Scenario } from './scenarios.ts';

export interface OutboxOptions {
  readonly generator: Generator;
  readonly target: string;
  readonly adminKey: string;
  readonly databaseUrl: string;
  readonly connections: number;
  readonly warmupS: number;
  readonly durationS: number;
  readonly unique: Scenario;
  readonly uniqueRow: Row | undefined;
  readonly log: (message: string) => void;
}

async function query<T extends pg.QueryResultRow>(databaseUrl: string, text: string, values: unknown[]): Promise<T> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    return (await db.query<T>(text, values)).rows[0]!;
  } finally {
    await db.end();
  }
}

/** charge.succeeded events published after `since`, and how many of them the endpoint has had delivered. */
async function relayProgress(databaseUrl: string, endpointId: number, since: number) {
  const row = await query<{ published: string; delivered: string }>(
    databaseUrl,
    `SELECT count(*) AS published, count(*) FILTER (WHERE ev.seq <= w.delivered_seq) AS delivered
       FROM events ev, webhook_endpoints w
      WHERE w.id = $1 AND ev.type = 'charge.succeeded' AND ev.seq > $2`,
    [endpointId, since],
  );
  return { published: Number(row.published), delivered: Number(row.delivered) };
}

export async function uniqueWebhookRow(o: OutboxOptions): Promise<Row> {
  let received = 0;
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(204).end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  const headers = { 'x-api-key': o.adminKey, 'content-type': 'application/json' };
  const made = await fetch(`${o.target}/webhook-endpoints`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ url, event_types: ['charge.succeeded'] }),
  });
  if (made.status !== 201)
    throw new Error(`creating the bench's webhook endpoint: ${made.status} ${await made.text()}`);
  const { id } = (await made.json()) as { id: number };
  const since = Number(
    (await query<{ s: string }>(o.databaseUrl, 'SELECT delivered_seq AS s FROM webhook_endpoints WHERE id = $1', [id]))
      .s,
  );
  try {
    o.log('scenario unique-webhook: unique charges with one webhook endpoint subscribed to charge.succeeded');
    const m = await measure(o.generator, o.target, o.connections, o.warmupS, o.durationS, o.unique);
    const relay = await relayProgress(o.databaseUrl, id, since);
    const note = `relay at the end: ${received} requests received, ${relay.delivered} of ${relay.published} events delivered`;
    o.log(`  ${Math.round(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms; ${note}`);
    return {
      name: 'unique-webhook',
      description: `unique charges, one webhook endpoint (${note})`,
      baseline: o.uniqueRow === undefined ? null : 'unique',
      ratio: o.uniqueRow === undefined ? null : m.rps / o.uniqueRow.rps,
      ...m,
    };
  } finally {
    await fetch(`${o.target}/webhook-endpoints/${id}`, { method: 'DELETE', headers: { 'x-api-key': o.adminKey } });
    receiver.closeAllConnections();
    receiver.close();
  }
}
