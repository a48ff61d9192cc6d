// `npm run seed-user -- --balance 1000 --currency USD [--name Ada]`: creates a funded user and prints its id.
// Replaces the original service's setup_test_user.py.
import { openDatabase } from '../db/database.ts';
import { createPool } from '../db/pool.ts';
import { currencyExponent, toMinorUnits } from '../lib/money.ts';
import { userRepository } from '../users/repository.ts';
import { configOrExit, fail, log, parseArgs } from './common.ts';

const { values } = parseArgs({
  options: {
    balance: { type: 'string', default: '1000' },
    currency: { type: 'string', default: 'USD' },
    name: { type: 'string', default: 'Test User' },
  },
});
const currency = values.currency;
const exponent = currencyExponent(currency);
if (exponent === undefined) fail(`unknown currency ${currency} (use an ISO 4217 code such as USD)`);
const amount = toMinorUnits(values.balance, exponent);
if (!amount.ok && !/^0+(\.0+)?$/.test(values.balance)) fail(`--balance: ${amount.message}`);

const config = configOrExit();
const database = await openDatabase(config, log).catch((error: Error) => fail(error.message));
// As the server would: through picopay_create_user, under the application role when there is one.
const pool = createPool(config, database.url, {
  applicationName: 'picopay-seed',
  sessionRole: database.sessionRole ?? undefined,
});
try {
  const json = await userRepository.create(pool, values.name, [
    { currency, exponent, amount: amount.ok ? amount.minor : 0n },
  ]);
  const user = JSON.parse(json) as { id: number };
  log(`created user ${user.id} with ${values.balance} ${currency}`);
  process.stdout.write(`${user.id}\n`);
} finally {
  await pool.end();
  await database.stop();
}
