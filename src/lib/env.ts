// The readers src/config.ts builds its schema from: one environment variable each, validated, with an error that
// names the variable and never repeats a secret's value. Only src/config.ts calls them (test/ops/deploy-parse.ts
// finds every variable PicoPay reads by scanning that file for these calls).
import { closeSync, openSync, readSync } from 'node:fs';

export class ConfigError extends Error {}

export type Env = Readonly<Record<string, string | undefined>>;

/** The trimmed value; unset and blank are the same (Compose passes `${X:-}` as an empty string). */
export function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${raw.slice(0, 40)}")`);
  }
  return Number(raw);
}

export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false (got "${raw.slice(0, 40)}")`);
}

// Secrets, keys and certificates are small; the bound keeps a mistaken path (/dev/zero, a log file) from hanging
// or filling memory at start-up.
const MAX_FILE_BYTES = 1024 * 1024;

/**
 * The contents of the file `name` points at, read once; an error names the variable and the path, never the
 * contents (a half-readable secret must not end up in a log).
 */
export function readSettingFile(name: string, file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new ConfigError(`${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    let length = 0;
    while (length <= MAX_FILE_BYTES) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > MAX_FILE_BYTES) throw new ConfigError(`${name}: ${file} is larger than ${MAX_FILE_BYTES} bytes`);
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    closeSync(fd);
  }
}

/**
 * A secret from NAME, or from the file NAME_FILE names (the Docker/Kubernetes secrets convention: the value stays
 * out of the environment, `docker inspect` and process listings). Trimmed like an environment value. Setting both
 * is an error (which one wins would be a guess), and so is an empty file (an unpopulated secret must not read as
 * "unset": an unset DATABASE_URL means the embedded database).
 */
export function secret(env: Env, name: string): string | undefined {
  const direct = read(env, name);
  const file = read(env, `${name}_FILE`);
  if (file === undefined) return direct;
  if (direct !== undefined) throw new ConfigError(`${name} and ${name}_FILE are both set; set one of them`);
  const value = readSettingFile(`${name}_FILE`, file).trim();
  if (value === '') throw new ConfigError(`${name}_FILE: ${file} is empty`);
  return value;
}

/**
 * A URL from NAME or NAME_FILE (every URL PicoPay reads may hold a password), with one of the given protocols. The
 * messages never quote the URL.
 */
export function secretUrl(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = secret(env, name);
  if (raw === undefined) return undefined;
  const source = read(env, `${name}_FILE`) === undefined ? name : `${name}_FILE`;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${source} must be a URL (${protocols.join(' or ')})`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${source} must use ${protocols.join(' or ')} (got ${parsed.protocol})`);
  }
  return raw;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration written as an integer and a unit (`500ms`, `90s`, `15m`, `12h`, `30d`), in milliseconds. */
export function duration(env: Env, name: string, fallbackMs: number, minMs: number, maxMs: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallbackMs;
  const match = /^(\d{1,12})(ms|s|m|h|d)$/.exec(raw);
  const ms = match === null ? NaN : Number(match[1]) * DURATION_UNITS[match[2]!]!;
  if (!(ms >= minMs && ms <= maxMs)) {
    throw new ConfigError(
      `${name} must be a duration such as 30d, 12h, 15m, 90s or 500ms, from ${minMs} ms to ${maxMs} ms (got "${raw.slice(0, 40)}")`,
    );
  }
  return ms;
}
