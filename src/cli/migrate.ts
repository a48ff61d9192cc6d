// `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded PostgreSQL). Start-up does the
// same, so this is for deploy pipelines that migrate before rolling out.
import { openDatabase } from '../db/database.ts';
import { configOrExit, fail, log } from './common.ts';

const database = await openDatabase(configOrExit(), log).catch((error: Error) => fail(error.message));
log('database is up to date');
await database.stop();
