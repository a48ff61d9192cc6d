import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openDatabase } from './db/database.ts';
import { ensureDevelopmentKey } from './dev-keys.ts';

function startupLine(message: string): void {
  process.stderr.write(`picopay: ${message}\n`);
}

function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      startupLine(`configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

function printQuickstart(config: Config, key: string): void {
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const base = `http://${host}:${config.port}`;
  process.stdout.write(
    [
      '',
      'PicoPay development admin key (kept in ' + `${config.dataDir}/admin-api-key; set APP_API_KEYS to use your own):`,
      `  ${key}`,
      'Create a user, then charge it:',
      `  curl -s -X POST ${base}/users -H 'Content-Type: application/json' -H 'X-API-Key: ${key}' \\`,
      `       -d '{"name":"Ada","balances":{"USD":1000}}'`,
      `  curl -s -X POST ${base}/charge -H 'Content-Type: application/json' -H 'X-API-Key: ${key}' \\`,
      `       -H "Idempotency-Key: $(node -e 'console.log(crypto.randomUUID())')" \\`,
      `       -d '{"user_id":1,"amount":50.0,"currency":"USD"}'`,
      `API docs: ${base}/docs`,
      '',
    ].join('\n') + '\n',
  );
}

async function main(): Promise<void> {
  const { config, generated } = ensureDevelopmentKey(loadConfigOrExit());
  const database = await openDatabase(config, startupLine);
  const app = await buildApp({ config, databaseUrl: database.url });
  app.log.info(
    { embedded_postgres: database.embedded, redis: config.redisUrl === undefined ? 'disabled' : 'configured' },
    config.redisUrl === undefined ? 'no Redis configured: in-process idempotency cache only' : 'Redis configured',
  );

  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close pools, then stop the embedded database.
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
    await database.stop();
  });

  const address = await app.listen({ host: config.host, port: config.port });
  // Printed whatever LOG_LEVEL says: supervisors and tests wait for this line.
  startupLine(`listening on ${address}`);
  if (generated !== undefined) printQuickstart(config, generated.key);
}

main().catch((error: unknown) => {
  startupLine(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
