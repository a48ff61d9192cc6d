import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.ts';

export function fail(message: string): never {
  process.stderr.write(`picopay: ${message}\n`);
  process.exit(1);
}

export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(`configuration error: ${error.message}`);
    throw error;
  }
}

export const log = (message: string): void => void process.stderr.write(`picopay: ${message}\n`);

export { parseArgs };
