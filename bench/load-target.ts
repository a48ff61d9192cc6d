// The server the overload and soak benches load: PicoPay compiled, as `npm run bench` starts it (fresh database,
// 10,000 funded users, Redis when there is one, rate limiter off, DB_POOL_SIZE from --pool), plus the generator.
import { freshDatabase, log, PICOPAY, redisForBench, seed, startHttp, type Resource } from './infra.ts';
import { startGenerator, type Generator } from './generator-protocol.ts';

export const API_KEY = 'bench_client_key_000000000000000001';
export const CLIENT = 'bench';

// Settings given to the bench that reach the server, for sizing the bounds against the same load.
const PASSED = /^(BATCH_|MAX_|REQUEST_DEADLINE_MS$|DB_|IDEMPOTENCY_)/;

export interface Target {
  readonly url: string;
  readonly pid: number;
  readonly databaseUrl: string;
  readonly userIds: readonly number[];
  /** Settings the server got beyond its defaults. */
  readonly settings: Record<string, string>;
  readonly generator: Generator;
  /** Another server (bench/http-baseline.ts, the bare route) for the generator's self-check. */
  baseline(): Promise<string>;
  release(): Promise<void>;
}

export async function startTarget(poolSize: number, extra: Record<string, string> = {}): Promise<Target> {
  const cleanups: Resource<unknown>[] = [];
  const release = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c.release().catch((e: unknown) => log(`cleanup: ${String(e)}`));
  };
  try {
    const database = await freshDatabase();
    cleanups.push(database);
    const redis = await redisForBench();
    cleanups.push(redis);
    const { userIds } = await seed(database.value, 10_000);
    const passed = Object.fromEntries(
      Object.entries(process.env).filter(([k, v]) => PASSED.test(k) && v !== undefined),
    ) as Record<string, string>;
    const settings = { RATE_LIMIT_MAX: '0', DB_POOL_SIZE: String(poolSize), ...passed, ...extra };
    const server = await startHttp(PICOPAY, {
      DATABASE_URL: database.value,
      APP_API_KEYS: `${CLIENT}:${API_KEY}`,
      ...settings,
      ...(redis.value ? { REDIS_URL: redis.value } : {}),
    });
    cleanups.push(server);
    const generator = startGenerator();
    cleanups.push({ value: undefined, release: async () => generator.stop() });
    return {
      url: server.value,
      pid: server.child.pid!,
      databaseUrl: database.value,
      userIds,
      settings,
      generator,
      async baseline() {
        const bare = await startHttp('bench/http-baseline.ts', {});
        cleanups.push(bare);
        return bare.value;
      },
      release,
    };
  } catch (error) {
    await release();
    throw error;
  }
}
