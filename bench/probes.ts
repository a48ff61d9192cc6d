// What the overload and soak benches watch on the server while the generator loads it, from the bench process (its
// own event loop, apart from the generator's): RSS and CPU from /proc, event-loop delay and pool waiters from
// /metrics (prom-client resets its event-loop histogram at each scrape, so a scrape a second is a per-second figure),
// and /health every 100 ms on a connection of its own.
import { readFileSync } from 'node:fs';
import http from 'node:http';

const now = (): number => performance.timeOrigin + performance.now();
const CLOCK_TICKS = 100; // USER_HZ on Linux

export interface ProbeSecond {
  readonly second: number;
  rssMb: number | null;
  serverCpuPct: number | null;
  generatorCpuPct: number | null;
  loopP99Ms: number | null;
  loopMaxMs: number | null;
  poolWaiting: number | null;
  readonly healthMs: number[];
}

export function rssMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? null : Number(match[1]) / 1024;
  } catch {
    return null;
  }
}

function cpuTicks(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  } catch {
    return null;
  }
}

/** GET on its own agent; the body and the time it took (ms from `from`). */
function get(agent: http.Agent, url: string, from: number): Promise<{ ms: number; body: string; status: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ ms: now() - from, body, status: res.statusCode ?? 0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const gauge = (text: string, name: string): number | null => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
};

export interface Probes {
  /** Stops probing; the samples by second since `origin`. */
  stop(): Promise<ProbeSecond[]>;
}

export function startProbes(target: string, serverPid: number, generatorPid: number | undefined, origin: number) {
  const samples = new Map<number, ProbeSecond>();
  const at = (t: number): ProbeSecond => {
    const s = Math.floor((t - origin) / 1000);
    let sample = samples.get(s);
    if (sample === undefined) {
      sample = {
        second: s,
        rssMb: null,
        serverCpuPct: null,
        generatorCpuPct: null,
        loopP99Ms: null,
        loopMaxMs: null,
        poolWaiting: null,
        healthMs: [],
      };
      samples.set(s, sample);
    }
    return sample;
  };
  let stopped = false;
  const healthAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const metricsAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  // /health every 100 ms on one connection, each probe timed from its own send, as a health checker sees it. A probe
  // slower than 100 ms is followed by the next at once (the slots it covered are skipped, not queued): timed from
  // the slots, one connection would add each slow probe's excess to all that follow, without bound.
  const health = (async () => {
    let slot = now();
    while (!stopped) {
      const sent = now();
      try {
        const r = await get(healthAgent, `${target}/health`, sent);
        at(sent).healthMs.push(r.status === 200 ? r.ms : Number.POSITIVE_INFINITY);
      } catch {
        at(sent).healthMs.push(Number.POSITIVE_INFINITY);
      }
      slot = Math.max(slot + 100, now());
      const wait = slot - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();

  // A first scrape resets the server's event-loop histogram, so the first sample covers its own second only.
  get(metricsAgent, `${target}/metrics`, now()).catch(() => {});
  let lastTicks = { server: cpuTicks(serverPid), generator: cpuTicks(generatorPid), t: now() };
  let scraping = false;
  const everySecond = setInterval(() => {
    const t = now();
    const sample = at(t - 1); // the second that just ended
    sample.rssMb = rssMb(serverPid);
    const ticks = { server: cpuTicks(serverPid), generator: cpuTicks(generatorPid), t };
    const pct = (a: number | null, b: number | null): number | null =>
      a === null || b === null ? null : ((b - a) / CLOCK_TICKS / ((t - lastTicks.t) / 1000)) * 100;
    sample.serverCpuPct = pct(lastTicks.server, ticks.server);
    sample.generatorCpuPct = pct(lastTicks.generator, ticks.generator);
    lastTicks = ticks;
    if (scraping) return; // a scrape still running (a slow server) is not stacked on
    scraping = true;
    get(metricsAgent, `${target}/metrics`, t)
      .then((r) => {
        const p99 = gauge(r.body, 'nodejs_eventloop_lag_p99_seconds');
        const max = gauge(r.body, 'nodejs_eventloop_lag_max_seconds');
        sample.loopP99Ms = p99 === null ? null : p99 * 1000;
        sample.loopMaxMs = max === null ? null : max * 1000;
        sample.poolWaiting = gauge(r.body, 'db_pool_connections{state="waiting"}');
      })
      .catch(() => {})
      .finally(() => (scraping = false));
  }, 1000);

  return {
    async stop(): Promise<ProbeSecond[]> {
      stopped = true;
      clearInterval(everySecond);
      await health;
      healthAgent.destroy();
      metricsAgent.destroy();
      return [...samples.values()].sort((a, b) => a.second - b.second);
    },
  } satisfies Probes;
}
