import { hash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';

/** One file of db/functions/: the current definition of the function it is named after (and its triggers, if any). */
export interface FunctionFile {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export function loadFunctionFiles(dir: string): FunctionFile[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const sql = readFileSync(path.join(dir, file), 'utf8');
      return { name: file.slice(0, -'.sql'.length), sql, checksum: hash('sha256', sql, 'hex') };
    });
}

/**
 * Files in dependency order: a file that mentions another file's function comes after it, so LANGUAGE sql bodies
 * (checked at creation) find what they call. Ties keep alphabetical order; a cycle is a mistake in the files.
 */
export function inDependencyOrder(files: readonly FunctionFile[]): FunctionFile[] {
  const byName = new Map(files.map((f) => [f.name, f]));
  const dependsOn = (file: FunctionFile): string[] =>
    files.filter((other) => other !== file && new RegExp(`\\b${other.name}\\b`).test(file.sql)).map((o) => o.name);
  const ordered: FunctionFile[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (file: FunctionFile, chain: readonly string[]): void => {
    if (state.get(file.name) === 'done') return;
    if (state.get(file.name) === 'visiting')
      throw new Error(`db/functions: dependency cycle ${[...chain, file.name].join(' -> ')}`);
    state.set(file.name, 'visiting');
    for (const name of dependsOn(file)) visit(byName.get(name)!, [...chain, file.name]);
    state.set(file.name, 'done');
    ordered.push(file);
  };
  for (const file of files) visit(file, []);
  return ordered;
}

/**
 * Applies every file whose checksum differs from the one recorded, or whose function is missing (a versioned
 * migration may have dropped it), in dependency order and in one transaction: a failing file leaves the database
 * with the previous definitions. The caller holds the migration lock. Returns the names applied.
 */
export async function applyFunctionFiles(client: pg.ClientBase, files: readonly FunctionFile[]): Promise<string[]> {
  const applied: string[] = [];
  await client.query('BEGIN');
  try {
    const recorded = await client.query<{ name: string; checksum: string }>(
      'SELECT name, checksum FROM picopay_function_files',
    );
    const checksums = new Map(recorded.rows.map((r) => [r.name, r.checksum]));
    const present = await client.query<{ name: string }>(
      'SELECT DISTINCT proname AS name FROM pg_proc WHERE pronamespace = current_schema()::regnamespace',
    );
    const existing = new Set(present.rows.map((r) => r.name));
    for (const file of inDependencyOrder(files)) {
      if (checksums.get(file.name) === file.checksum && existing.has(file.name)) continue;
      try {
        await client.query(file.sql);
      } catch (error) {
        throw new Error(`db/functions/${file.name}.sql: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
      await client.query(
        `INSERT INTO picopay_function_files (name, checksum) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()`,
        [file.name, file.checksum],
      );
      applied.push(file.name);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  return applied;
}
