// Small parsers for the deployment files, shared by the ops tests: the Dockerfile, .dockerignore, Compose
// interpolation and the list of environment variables src/config.ts reads (derived from its source, not typed in).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

export const root = path.resolve(import.meta.dirname, '../..');
export const readText = (file: string): string => readFileSync(path.join(root, file), 'utf8');

export interface ConfigVar {
  readonly name: string;
  /** The integer default of an int(env, NAME, default, ...) call, if any. */
  readonly intDefault: number | undefined;
}

/** Readers of src/lib/env.ts that take a secret from NAME or from the file NAME_FILE names: both are variables. */
const SECRET_READERS = new Set(['secret', 'secretUrl', 'postgresUrl']);

/**
 * Every `read(env, 'NAME')`, `int(env, 'NAME', default, ...)`, `bool`, `duration` and `url(env, 'NAME', ...)`
 * call in src/config.ts and src/config-limits.ts, and NAME and NAME_FILE of every `secret(env, 'NAME')`, `secretUrl(env, 'NAME', ...)` and
 * `postgresUrl(env, 'NAME')` call.
 */
export function configVars(source: string = readText('src/config.ts') + readText('src/config-limits.ts')): ConfigVar[] {
  const found = new Map<string, ConfigVar>();
  const calls =
    /\b(read|int|url|bool|duration|secret|secretUrl|postgresUrl)\(env, '([A-Z][A-Z0-9_]*)'(?:, ([0-9_]+))?/g;
  for (const m of source.matchAll(calls)) {
    const name = m[2]!;
    const intDefault = m[1] === 'int' && m[3] !== undefined ? Number(m[3].replaceAll('_', '')) : undefined;
    const previous = found.get(name);
    found.set(name, { name, intDefault: intDefault ?? previous?.intDefault });
    if (SECRET_READERS.has(m[1]!)) found.set(`${name}_FILE`, { name: `${name}_FILE`, intDefault: undefined });
  }
  return [...found.values()];
}

// ---------------------------------------------------------------- Dockerfile

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Instructions in order (comments dropped, `\` continuations joined), grouped by FROM; global ARG defaults resolved. */
export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push((pending + line).trim());
    pending = '';
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      const image = (m?.[1] ?? '').replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => args[a ?? b] ?? '');
      stages.push({ from: image, name: m?.[2], instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [name = '', value = ''] = instruction.args.split('=');
      args[name] = value;
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** KEY=value pairs of ENV instructions (also the legacy `ENV KEY value` form). */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, args } of stage.instructions) {
    if (keyword !== 'ENV') continue;
    if (!args.includes('=')) {
      const [key = '', ...value] = args.split(/\s+/);
      env[key] = value.join(' ');
      continue;
    }
    for (const m of args.matchAll(/(\w+)=("[^"]*"|\S*)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  }
  return env;
}

export const instructionsOf = (stage: Stage, keyword: string): string[] =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** Sources of the COPY instructions that read the build context (not --from=another stage). */
export function contextCopies(stages: Stage[]): string[] {
  const sources: string[] = [];
  for (const stage of stages) {
    for (const args of instructionsOf(stage, 'COPY')) {
      const words = args.split(/\s+/);
      if (words.some((w) => w.startsWith('--from='))) continue;
      sources.push(...words.filter((w) => !w.startsWith('--')).slice(0, -1));
    }
  }
  return sources;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/^\/+|\/+$/g, '')
    .split('')
    .map((c) => (/[.+^${}()|[\]\\]/.test(c) ? `\\${c}` : c))
    .join('')
    .replace(/\*\*\//g, '\u0000')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]')
    .replace(/\u0000/g, '(?:.*/)?');
  return new RegExp(`^${escaped}(?:/.*)?$`);
}

/** The .dockerignore patterns (negations unsupported: none are used) that exclude a context path. */
export function ignoredBy(dockerignore: string, file: string): string[] {
  const patterns = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  return patterns.filter((p) => globToRegExp(p).test(file.replace(/^\.\//, '').replace(/\/+$/, '')));
}

// ---------------------------------------------------------------- Compose

export interface Service {
  image?: string;
  build?: unknown;
  ports?: (string | number)[];
  environment?: Record<string, string | number | boolean | null> | string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  restart?: string;
  volumes?: string[];
  command?: string | string[];
  deploy?: { resources?: { limits?: { cpus?: string | number; memory?: string } } };
}

export interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

export const loadCompose = (file: string): ComposeFile => parseYaml(readText(file)) as ComposeFile;

/** The service's environment as strings, exactly as written (before interpolation). */
export function serviceEnv(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => [e.split('=')[0]!, e.split('=').slice(1).join('=')]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/**
 * Compose interpolation with an empty shell environment: `${X:-d}`/`${X-d}` give d, `${X:?msg}`/`${X?msg}` give
 * `required(X)` (the variable the operator must set), `${X}` gives ''.
 */
export function interpolate(value: string, required: (name: string) => string): string {
  return value.replace(
    /\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}/g,
    (all, name: string | undefined, op: string | undefined, arg: string | undefined) => {
      if (all === '$$') return '$';
      if (op === ':-' || op === '-') return arg ?? '';
      if (op === ':?' || op === '?') return required(name!);
      return '';
    },
  );
}

/** Names of variables a Compose file refuses to run without (`${NAME:?...}`). */
export const requiredVars = (text: string): string[] => [
  ...new Set([...text.matchAll(/\$\{(\w+):?\?/g)].map((m) => m[1]!)),
];
