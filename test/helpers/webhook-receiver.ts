// A webhook receiver for the tests: a local node:http server that records every request, answers as the test's
// behaviour says (per webhook-id and attempt), and notices two requests for one webhook-id in flight at once.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';

export type Answer = 'ok' | 'fail' | 'hang' | 'reset';

export interface Received {
  readonly id: string;
  readonly timestamp: string;
  readonly signature: string;
  readonly body: string;
  readonly attempt: number;
  readonly answer: Answer;
}

export interface Receiver {
  readonly port: number;
  readonly url: string;
  readonly received: Received[];
  /** How often a webhook-id was in flight while another request for it was (must stay 0). */
  overlaps(): number;
  /** Ids answered 2xx, in the order they were answered. */
  delivered(): string[];
  /** Stops listening (the port then refuses connections) and cuts requests left hanging. */
  close(): Promise<void>;
  /** Listens again on the same port. */
  reopen(): Promise<void>;
  /** Verifies every request's signature with the reference library; throws on the first bad one. */
  verifyAll(secret: string): void;
}

export async function startReceiver(
  behaviour: (attempt: number, id: string) => Answer = () => 'ok',
  options: { delayMs?: number; port?: number } = {},
): Promise<Receiver> {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const inFlight = new Map<string, number>();
  const answered: string[] = [];
  let overlaps = 0;
  const server = http.createServer((req, res) => {
    const id = String(req.headers['webhook-id']);
    const count = (inFlight.get(id) ?? 0) + 1;
    inFlight.set(id, count);
    if (count > 1) overlaps++;
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      const answer = behaviour(attempt, id);
      received.push({
        id,
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        body,
        attempt,
        answer,
      });
      const finish = (): void => {
        if (answer === 'hang') return;
        if (answer === 'reset') return void req.socket.destroy();
        if (answer === 'ok') answered.push(id);
        res.writeHead(answer === 'ok' ? 200 : 500).end(answer);
      };
      if (options.delayMs) setTimeout(finish, options.delayMs);
      else finish();
    });
    res.on('close', () => inFlight.set(id, (inFlight.get(id) ?? 1) - 1));
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    overlaps: () => overlaps,
    delivered: () => [...answered],
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
    async reopen() {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
    verifyAll(secret) {
      const wh = new Webhook(secret);
      for (const r of received)
        wh.verify(r.body, { 'webhook-id': r.id, 'webhook-timestamp': r.timestamp, 'webhook-signature': r.signature });
    },
  };
}

/** Polls until check() holds, at most timeoutMs; fails with the message otherwise. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Registered with after() before the file starts its apps: deletes the endpoints the file created (so later files'
 * servers never relay to them) and the synthetic events it published (no movement behind them: `npm run verify`
 * pairs events with movements, and the next files check it).
 */
export async function deleteWebhookFixtures(databaseUrl: string, endpointIds: readonly number[]): Promise<void> {
  const cleanup = new pg.Client({ connectionString: databaseUrl });
  await cleanup.connect();
  try {
    await cleanup.query('DELETE FROM webhook_endpoints WHERE id = ANY ($1::bigint[])', [endpointIds]);
    await cleanup.query(`DELETE FROM events WHERE type <> 'charge.declined' AND (data::json ->> 'id') IS NULL`);
  } finally {
    await cleanup.end();
  }
}
