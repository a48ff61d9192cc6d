// Scenario 13's JSON text model: every scalar is kept as its exact source text, keys as their (possibly escaped) source
// text and decoded value, so duplicates, escaped forbidden keys and number spellings survive until rendering. Also:
// string-literal encodings, nesting helpers and the strict "does this body parse as JSON" check.

export const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type JNode =
  | { readonly t: 'raw'; readonly text: string }
  | { readonly t: 'arr'; readonly items: JNode[] }
  | { readonly t: 'obj'; readonly members: Member[] };
export interface Member {
  readonly keyText: string;
  readonly key: string;
  readonly value: JNode;
}

export const raw = (text: string): JNode => ({ t: 'raw', text });
export const arr = (items: JNode[]): JNode => ({ t: 'arr', items });
export const obj = (members: Member[]): JNode => ({ t: 'obj', members });
export const member = (key: string, value: JNode, keyText: string = JSON.stringify(key)): Member => ({
  keyText,
  key,
  value,
});

export function render(node: JNode, ws: string): string {
  if (node.t === 'raw') return node.text;
  if (node.t === 'arr') {
    return node.items.length === 0 ? '[]' : `[${ws}${node.items.map((i) => render(i, ws)).join(`,${ws}`)}${ws}]`;
  }
  if (node.members.length === 0) return '{}';
  return `{${ws}${node.members.map((m) => `${m.keyText}${ws}:${ws}${render(m.value, ws)}`).join(`,${ws}`)}${ws}}`;
}

export function depthOf(node: JNode): number {
  if (node.t === 'raw') return 0;
  const children = node.t === 'arr' ? node.items : node.members.map((m) => m.value);
  return 1 + children.reduce((max, c) => Math.max(max, depthOf(c)), 0);
}

export function objectsOf(node: JNode, out: Member[][] = []): Member[][] {
  if (node.t === 'obj') {
    out.push(node.members);
    for (const m of node.members) objectsOf(m.value, out);
  } else if (node.t === 'arr') {
    for (const item of node.items) objectsOf(item, out);
  }
  return out;
}

export const hasDuplicateKey = (node: JNode): boolean =>
  objectsOf(node).some((members) => new Set(members.map((m) => m.key)).size !== members.length);
export const hasForbiddenKey = (node: JNode): boolean =>
  objectsOf(node).some((ms) => ms.some((m) => FORBIDDEN_KEYS.has(m.key)));

export type StringStyle = 'json' | 'escape-non-ascii' | 'escape-all';

/** A JSON string literal for s: JSON.stringify, or \uXXXX escapes for non-ASCII (or for every code unit). */
export function encodeString(s: string, style: StringStyle): string {
  if (style === 'json') return JSON.stringify(s);
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const escape = style === 'escape-all' || c > 0x7e || c < 0x20 || c === 0x22 || c === 0x5c;
    const hex = c.toString(16).padStart(4, '0');
    out += escape ? `\\u${i % 2 === 0 ? hex : hex.toUpperCase()}` : s[i]; // both hex cases are legal
  }
  return `${out}"`;
}

export function toNode(value: unknown): JNode {
  if (Array.isArray(value)) return arr(value.map(toNode));
  if (typeof value === 'object' && value !== null) {
    return obj(
      Object.entries(value)
        .filter(([k]) => !FORBIDDEN_KEYS.has(k))
        .map(([k, v]) => member(k, toNode(v))),
    );
  }
  return raw(JSON.stringify(value) ?? 'null');
}

/** The text of `depth` nested containers around 1, built without recursion. */
export function deepText(depth: number, kind: 'arr' | 'obj' | 'mixed'): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    const asArray = kind === 'arr' || (kind === 'mixed' && i % 2 === 0);
    open += asArray ? '[' : '{"n":';
    close = (asArray ? ']' : '}') + close;
  }
  return `${open}1${close}`;
}

export function nested(depth: number, kind: 'arr' | 'obj' | 'mixed'): JNode {
  let node: JNode = raw('1');
  for (let i = 0; i < depth; i++) {
    const asArray = kind === 'arr' || (kind === 'mixed' && i % 2 === 0);
    node = asArray ? arr([node]) : obj([member('n', node)]);
  }
  return node;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parsesAsJson(bytes: Buffer): boolean {
  try {
    const text = utf8Fatal.decode(bytes);
    if (text.charCodeAt(0) === 0xfeff) return false;
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
