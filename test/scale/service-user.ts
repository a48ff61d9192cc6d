// PostgreSQL and PgBouncer refuse to run as root. Tests running as root (CI containers) start them as the
// `postgres` OS user with runuser, in temporary directories handed to that user; otherwise they run as we are.
import { spawnSync, type SpawnOptions } from 'node:child_process';
import { chownSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const SERVICE_USER = 'postgres';
const isRoot = process.getuid?.() === 0;

function idOf(flag: '-u' | '-g'): number | undefined {
  const result = spawnSync('id', [flag, SERVICE_USER], { encoding: 'utf8' });
  return result.status === 0 ? Number(result.stdout.trim()) : undefined;
}

/** Why services cannot be started here, or undefined. */
export function serviceUserSkipReason(): string | undefined {
  if (!isRoot) return undefined;
  if (idOf('-u') === undefined)
    return `running as root and there is no '${SERVICE_USER}' OS user to run PostgreSQL/PgBouncer as`;
  if (spawnSync('runuser', ['--help']).status !== 0) return 'running as root and runuser is not available';
  return undefined;
}

/** A fresh temporary directory the service user owns. */
export function serviceDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  if (isRoot) chownSync(dir, idOf('-u')!, idOf('-g')!);
  return dir;
}

/** [command, args] that run `command args` as the service user. */
export function asServiceUser(command: string, args: readonly string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', SERVICE_USER, '--', command, ...args]] : [command, [...args]];
}

/** Runs a command as the service user to completion; throws with its output when it fails. */
export function runAsServiceUser(command: string, args: readonly string[], options: SpawnOptions = {}): string {
  const [cmd, argv] = asServiceUser(command, args);
  const result = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 120_000, ...options });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${output.slice(-800)}`);
  return output;
}
