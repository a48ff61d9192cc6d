// Compiles src/ to dist/ with tsc when dist/ is missing or older than any source, so `npm ci && npm start` stays two
// commands while production runs JavaScript. The Docker image ships a built dist/ and no compiler: there dist/ is
// never stale (no src/ next to it) and nothing is built.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(root, 'dist');
const STAMP = path.join(DIST, '.built');
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newestMtime(target) {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(target).map((name) => newestMtime(path.join(target, name))));
}

/** True when there are sources and dist/ was built before the newest of them changed. */
function stale() {
  if (!existsSync(path.join(root, 'src'))) return !existsSync(STAMP);
  return (
    !existsSync(STAMP) || Math.max(...INPUTS.map((p) => newestMtime(path.join(root, p)))) > statSync(STAMP).mtimeMs
  );
}

/** Builds when needed (or when forced) and returns dist/'s URL, ending in a slash. */
export function ensureBuilt({ force = false } = {}) {
  if (force || stale()) {
    let tsc;
    try {
      tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    } catch {
      process.stderr.write(
        'picopay: dist/ is missing or stale and TypeScript is not installed; run `npm ci` (with dev dependencies) first\n',
      );
      process.exit(1);
    }
    process.stderr.write('picopay: compiling src/ to dist/ (tsc -p tsconfig.build.json)\n');
    rmSync(DIST, { recursive: true, force: true });
    const run = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
    if (run.status !== 0) process.exit(run.status ?? 1);
    writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  }
  return pathToFileURL(`${DIST}/`);
}
