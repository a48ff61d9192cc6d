// The layout rules DESIGN_GUIDE.md states, checked on the sources: no import cycles in src/, and every SQL function
// defined in exactly one file, db/functions/<name>.sql (versioned migrations hold no function bodies).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const root = path.resolve(import.meta.dirname, '../..');

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full, suffix) : full.endsWith(suffix) ? [full] : [];
  });
}

/** Relative imports of a module (type-only ones too: a cycle of types is still a tangle), resolved to files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) => m[1]!);
  return specifiers.map((s) => path.resolve(path.dirname(file), s));
}

/** The first import cycle found, as a list of files, or undefined. */
export function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

test('the cycle finder finds a cycle and accepts a tree (so the next test can fail)', () => {
  assert.deepEqual(
    findCycle(
      new Map([
        ['a', ['b']],
        ['b', ['c']],
        ['c', ['a']],
      ]),
    ),
    ['a', 'b', 'c', 'a'],
  );
  assert.equal(
    findCycle(
      new Map([
        ['a', ['b', 'c']],
        ['b', ['c']],
        ['c', []],
      ]),
    ),
    undefined,
  );
});

test('src/ has no import cycles', () => {
  const files = filesUnder(path.join(root, 'src'), '.ts');
  assert.ok(files.length > 30, 'the sources were found');
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  for (const [file, imports] of graph) {
    for (const target of imports)
      assert.ok(graph.has(target), `${path.relative(root, file)} imports a missing ${path.relative(root, target)}`);
  }
  const cycle = findCycle(graph);
  assert.equal(cycle?.map((f) => path.relative(root, f)).join(' -> '), undefined, 'import cycle');
});

const FUNCTION_DEFINITION = /\bCREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(?:public\.)?(\w+)/gi;

test('every SQL function is defined in exactly one file: db/functions/<its name>.sql', () => {
  const sources = [
    ...filesUnder(path.join(root, 'migrations'), '.sql'),
    ...filesUnder(path.join(root, 'db/functions'), '.sql'),
  ];
  const definedIn = new Map<string, string[]>();
  for (const file of sources) {
    for (const match of readFileSync(file, 'utf8').matchAll(FUNCTION_DEFINITION)) {
      const name = match[1]!.toLowerCase();
      definedIn.set(name, [...(definedIn.get(name) ?? []), path.relative(root, file)]);
    }
  }
  assert.ok(definedIn.size >= 15, 'the functions were found');
  for (const [name, files] of definedIn) assert.deepEqual(files, [`db/functions/${name}.sql`], name);
});

test('versioned migrations neither alter function bodies nor attributes', () => {
  for (const file of filesUnder(path.join(root, 'migrations'), '.sql')) {
    const up = readFileSync(file, 'utf8').split(/^--\s*Down Migration/im)[0]!;
    assert.doesNotMatch(up, /\bALTER\s+FUNCTION\b/i, path.relative(root, file));
  }
});
