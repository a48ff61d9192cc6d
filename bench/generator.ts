// The overload and soak benches' load generator, a child process of the bench (its own event loop and heap, so the
// bench's probes never wait behind it, and its CPU shows apart). Unique charges over node:http with one large
// keep-alive agent; open loop (requests sent on a fixed schedule whatever the answers) or closed loop (N connections,
// each sending when its last answer came). Latency is taken from the scheduled send time, so a late send (a slow
// generator) or a queue in the agent counts against the server's figure instead of disappearing (no coordinated
// omission); the send lag itself is recorded per second, which shows whether the generator kept up.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { GeneratorCommand, GeneratorReply, Outcome } from './generator-protocol.ts';
import { emptySecond, type SecondRaw } from './generator-protocol.ts';

const now = (): number => performance.timeOrigin + performance.now();
// Replaced at init: at most `sockets` connections, opened before the load (see warm()).
let agent = new http.Agent({ keepAlive: true });
const REQUEST_TIMEOUT_MS = 30_000;

let origin = now();
let apiKey = '';
let users: readonly number[] = [];
const seconds = new Map<number, SecondRaw>();
const keys: Record<Outcome, string[]> = { accepted: [], shed: [], unknown: [], error: [] };

function second(at: number): SecondRaw {
  const s = Math.floor((at - origin) / 1000);
  let raw = seconds.get(s);
  if (raw === undefined) seconds.set(s, (raw = emptySecond(s)));
  return raw;
}

// The generator's own event-loop delay, per second: a late loop is a late send.
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
setInterval(() => {
  second(now() - 1).loopMaxMs = loop.max / 1e6;
  loop.reset();
}, 1000).unref();

interface Tally {
  readonly latencies: Record<Outcome, number[]>;
  sent: number;
  lastAnswer: number;
  /** What the 'error' answers were: `<status> <code>`, or the socket error's message. */
  readonly errorKinds: Record<string, number>;
}
const newTally = (): Tally => ({
  latencies: { accepted: [], shed: [], unknown: [], error: [] },
  sent: 0,
  lastAnswer: 0,
  errorKinds: {},
});

function classify(status: number, body: string): Outcome {
  if (status >= 200 && status < 300) return 'accepted';
  if (status === 503 && body.includes('"overloaded"')) return 'shed';
  if (status === 503 && body.includes('"outcome_unknown"')) return 'unknown';
  return 'error';
}

/** One charge; `scheduled` is when it should have gone (epoch ms). Resolves when it is answered or failed. */
function send(target: URL, scheduled: number, tally: Tally, record: boolean, keep = record): Promise<void> {
  const key = randomUUID();
  const user = users[Math.floor(Math.random() * users.length)]!;
  const body = `{"user_id":${user},"amount":"0.01","currency":"USD"}`;
  const sentAt = now();
  tally.sent++;
  if (record) {
    const s = second(sentAt);
    s.sent++;
    s.sendLagMs.push(sentAt - scheduled);
  }
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome, kind = ''): void => {
      if (settled) return;
      settled = true;
      if (outcome === 'error') tally.errorKinds[kind] = (tally.errorKinds[kind] ?? 0) + 1;
      const at = now();
      tally.lastAnswer = Math.max(tally.lastAnswer, at);
      tally.latencies[outcome].push(at - scheduled);
      if (record) {
        second(at)[outcome].push(at - scheduled);
      }
      if (keep) keys[outcome].push(key);
      resolve();
    };
    const req = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path: '/charge',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-api-key': apiKey,
          'idempotency-key': key,
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          res.resume();
          res.on('end', () => finish('accepted'));
        } else {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () =>
            finish(classify(status, text), `${status} ${/"code":"([a-z_]+)"/.exec(text)?.[1] ?? ''}`),
          );
        }
        res.on('error', (e) => finish('error', e.message));
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => finish('error', e.message));
    req.end(body);
  });
}

/** `rate` requests per second on schedule for `seconds`; resolves when every one of them is answered. */
async function openLoop(target: URL, rate: number, durationS: number, tally: Tally, record: boolean, keep: boolean) {
  const start = now();
  const total = Math.round(rate * durationS);
  const pending: Promise<void>[] = [];
  let i = 0;
  await new Promise<void>((done) => {
    const tick = (): void => {
      const t = now();
      for (; i < total && start + (i * 1000) / rate <= t; i++) {
        pending.push(send(target, start + (i * 1000) / rate, tally, record, keep));
      }
      if (i < total) setTimeout(tick, 1);
      else done();
    };
    tick();
  });
  await Promise.all(pending);
}

/**
 * Opens `sockets` keep-alive connections (as many GET /health at once; the agent keeps them). A load that opens
 * connections as it goes measures the kernel's accept queue and SYN retransmits (1 s, 3 s, 7 s) on a starved
 * server instead of the server; clients of a payment API keep pools of connections open.
 */
async function warm(target: URL, sockets: number): Promise<void> {
  await Promise.all(
    Array.from(
      { length: sockets },
      () =>
        new Promise<void>((resolve) => {
          const req = http.get({ agent, host: target.hostname, port: target.port, path: '/health' }, (res) => {
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', () => resolve());
        }),
    ),
  );
}

/** `connections` loops, each sending its next charge when the last is answered, for `seconds`. */
async function closedLoop(target: URL, connections: number, durationS: number, tally: Tally, record: boolean) {
  const end = now() + durationS * 1000;
  const worker = async (): Promise<void> => {
    while (now() < end) await send(target, now(), tally, record);
  };
  await Promise.all(Array.from({ length: connections }, worker));
}

const percentile = (values: number[], p: number): number | null => {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

async function run(command: GeneratorCommand): Promise<GeneratorReply> {
  if (command.kind === 'init') {
    origin = command.origin;
    apiKey = command.apiKey;
    users = command.users;
    const max = command.sockets > 0 ? command.sockets : Number.POSITIVE_INFINITY;
    agent = new http.Agent({ keepAlive: true, maxSockets: max, maxFreeSockets: max, scheduling: 'lifo' });
    return { kind: 'ok' };
  }
  if (command.kind === 'warm') {
    await warm(new URL(command.target), command.sockets);
    return { kind: 'ok' };
  }
  if (command.kind === 'report') {
    const current = Math.floor((now() - origin) / 1000);
    const list = [...seconds.values()]
      .filter((s) => !command.clear || s.second < current)
      .sort((a, b) => a.second - b.second);
    if (command.clear) for (const s of list) seconds.delete(s.second);
    return { kind: 'report', seconds: list, keys };
  }
  const tally = newTally();
  const target = new URL(command.target);
  const started = now();
  const keep = command.keys ?? command.record;
  if (command.kind === 'open') await openLoop(target, command.rate, command.seconds, tally, command.record, keep);
  else await closedLoop(target, command.connections, command.seconds, tally, command.record);
  const l = tally.latencies;
  return {
    kind: 'phase',
    started,
    lastAnswer: tally.lastAnswer,
    sent: tally.sent,
    counts: { accepted: l.accepted.length, shed: l.shed.length, unknown: l.unknown.length, error: l.error.length },
    acceptedP50: percentile(l.accepted, 50),
    acceptedP99: percentile(l.accepted, 99),
    acceptedMax: percentile(l.accepted, 100),
    admittedP99: percentile([...l.accepted, ...l.unknown], 99),
    shedP99: percentile(l.shed, 99),
    errorKinds: tally.errorKinds,
  };
}

process.on('message', (message: { id: number; command: GeneratorCommand }) => {
  void run(message.command).then(
    (reply) => process.send!({ id: message.id, reply }),
    (error: unknown) => process.send!({ id: message.id, reply: { kind: 'error', message: String(error) } }),
  );
});
process.on('disconnect', () => process.exit(0));
