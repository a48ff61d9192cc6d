// The operations documents against the code: DEPLOY.md's configuration table lists every variable src/config.ts
// reads with its default, relative links resolve, and REPORT.md quotes measured lines with the command that made them.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configVars, readText, root } from './deploy-parse.ts';

/** Documents linked before they exist, written by someone else. */
const PENDING_LINKS = new Set<string>();

/** DEPLOY.md's configuration table: variable → the text of its default cell. */
function configTable(markdown: string): Map<string, string> {
  const section = markdown.split('\n## Configuration')[1]?.split('\n## ')[0] ?? '';
  const table = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[1]!.startsWith('`')) continue;
    const names = cells[1]!.split(' / ').map((n) => n.replaceAll('`', ''));
    const defaults = cells[2]!.split(' / ');
    names.forEach((name, i) => table.set(name, defaults.length === names.length ? defaults[i]! : cells[2]!));
  }
  return table;
}

test('DEPLOY.md documents every variable src/config.ts reads, with its default', () => {
  const table = configTable(readText('docs/DEPLOY.md'));
  const vars = configVars();
  assert.deepEqual(
    vars.map((v) => v.name).filter((name) => !table.has(name)),
    [],
    'variables missing from the table',
  );
  for (const v of vars) {
    if (v.intDefault !== undefined) assert.equal(table.get(v.name), String(v.intDefault), `${v.name} default`);
  }
  const config = readText('src/config.ts');
  const stringDefaults: [string, string][] = [
    ['HOST', '0.0.0.0'],
    ['LOG_LEVEL', 'info'],
    ['NODE_ENV', 'development'],
    ['PICOPAY_DATA_DIR', '.data'],
  ];
  for (const [name, value] of stringDefaults) {
    assert.match(
      config,
      new RegExp(`read\\(env, '${name}'\\)[^\\n]*'${value.replaceAll('.', '\\.')}'`),
      `${name} default in config.ts`,
    );
    assert.equal(table.get(name), value, `${name} default in DEPLOY.md`);
  }
});

test('relative links in docs/ resolve', () => {
  const broken: string[] = [];
  for (const file of readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md'))) {
    for (const m of readText(`docs/${file}`).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      const resolved = path.relative(root, path.resolve(root, 'docs', target));
      if (!existsSync(path.join(root, resolved)) && !PENDING_LINKS.has(resolved)) broken.push(`${file} → ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('every document links SCALING.md; REPORT.md quotes [reliability] lines with their command and date', () => {
  for (const file of ['DEPLOY.md', 'REPORT.md', 'DESIGN_GUIDE.md'])
    assert.match(readText(`docs/${file}`), /\]\(SCALING\.md\)/, file);
  const report = readText('docs/REPORT.md');
  assert.match(report, /npm test -- reliability/);
  assert.match(report, /\b20\d\d-\d\d-\d\d\b/);
  const quoted = report.split('\n').filter((l) => l.startsWith('[reliability] '));
  assert.ok(quoted.length >= 12, `${quoted.length} quoted summary lines`);
});

test('SCALING.md quotes the bench table with its command and date, and attributes the figures it did not measure', () => {
  const scaling = readText('docs/SCALING.md');
  assert.match(scaling, /npm run bench(?: -- --duration \d+ --warmup \d+)?`/, 'the bench command');
  assert.match(scaling, /\b20\d\d-\d\d-\d\d\b/);
  assert.match(scaling, /^\| baseline:sql-unique +\|/m, 'the bench table itself');
  assert.match(scaling, /figures from the issue, not produced by\s+this repository's commands/);
  for (const test of ['scale/instances', 'scale/redis-cluster', 'scale/pgbouncer', 'scale/replica']) {
    assert.ok(scaling.includes(`npm test -- ${test}`), test);
    assert.ok(existsSync(path.join(root, `test/${test}.test.ts`)), `test/${test}.test.ts`);
  }
});
