// One load run with autocannon: fixed connections, a warm-up that is thrown away, then the measured window.
import autocannon from 'autocannon';
import type { RequestShape } from './scenarios.ts';

export interface Measurement {
  readonly rps: number;
  readonly p50: number; // ms
  readonly p99: number; // ms
  readonly errors: number;
  readonly non2xx: number;
}

function run(url: string, connections: number, seconds: number, next: () => RequestShape): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        duration: seconds,
        requests: [{ setupRequest: (req) => ({ ...req, ...next() }) }],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

export async function measure(url: string, connections: number, warmupS: number, durationS: number, next: () => RequestShape): Promise<Measurement> {
  if (warmupS > 0) await run(url, connections, warmupS, next);
  const r = await run(url, connections, durationS, next);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}
