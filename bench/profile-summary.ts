// `npx tsx bench/profile-summary.ts <file.cpuprofile>`: where a server's CPU went, from `node --cpu-prof`. Each
// sample's time goes to the first frame, from the leaf up, that belongs to a known part (PicoPay's modules, the
// libraries, Node's HTTP stack); the rest is listed by function. Shares of the busy time: idle samples (waiting in
// epoll, e.g. before and after the load) are left out.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const PARTS: readonly (readonly [string, RegExp])[] = [
  ['prom-client (metrics)', /prom-client/],
  ['pino / request logger', /pino|request-logger|logger-factory/],
  ['ioredis / response cache', /ioredis|redis-parser|response-cache|redis-guard/],
  ['pg', /node_modules\/pg|pg-protocol|pg-types|pg-pool|db\/pool/],
  ['group commit batcher', /charge-batcher/],
  ['strict JSON body', /strict-json|json-body/],
  ['schema validation', /typebox|validation\.js|validator\.ts/],
  ['money conversion', /domain\/money/],
  ['idempotency (fingerprint, LRU)', /idempotency/],
  ['payment service', /payment-service/],
  ['authentication', /auth\.ts/],
  ['crypto hash', /crypto\/hash/],
  ['routes', /src\/routes\//],
  ['security headers', /security-headers/],
  ['fastify', /fastify\/lib|fastify\.js|find-my-way/],
  ['node http / streams / sockets', /_http|stream|node:net|events/],
];

const file = process.argv[2];
if (file === undefined) throw new Error('usage: profile-summary.ts <file.cpuprofile>');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const shares = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  if (byId.get(id)!.callFrame.functionName === '(idle)') return;
  total += dt;
  let part = `other: ${byId.get(id)!.callFrame.functionName || '(anonymous)'}`;
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const found = PARTS.find(([, pattern]) => pattern.test(byId.get(cur)!.callFrame.url));
    if (found !== undefined) {
      part = found[0];
      break;
    }
  }
  shares.set(part, (shares.get(part) ?? 0) + dt);
});
for (const [part, t] of [...shares].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  process.stdout.write(`${((100 * t) / total).toFixed(1).padStart(5)} %  ${part}\n`);
}
