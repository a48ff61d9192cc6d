// Scenario 13's oracle. A generated CaseSpec (case.ts) is a structured description of one hostile POST /charge:
// every dimension (API key, Content-Type, Idempotency-Key, each body field, extra fields, JSON structure, body size,
// raw HTTP faults, X-Request-Id) is either fine or carries one fault. materialize() turns it into bytes plus the outcome
// the README promises, decided by the order in which the server looks at a request:
//   HTTP parser (400/431, Node) → API key (401) → media type (415) → size (413) → charset (415) → JSON (400)
//   → Idempotency-Key (400) → schema and field checks (422 naming the fields) → the ledger (404/422/400 declines)
//   → 200, which only a request the generator built as valid may get.
import type { CaseSpec } from './case.ts';
import { keyHeader, HTTP_FAULT_LINES } from './headers.ts';
import {
  type JNode,
  arr,
  deepText,
  depthOf,
  encodeString,
  hasDuplicateKey,
  hasForbiddenKey,
  member,
  obj,
  objectsOf,
  parsesAsJson,
  raw,
  render,
} from './json-model.ts';
import type { Wire } from './wire.ts';

const BODY_LIMIT = 16_384;
const MAX_DEPTH = 8;

export interface Intended {
  readonly currency: string;
  readonly minor: number;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly storedKey: string;
}

export interface Expected {
  readonly status: number;
  /** Problem code; undefined for a 200 and for a rejection by Node's HTTP parser. */
  readonly code?: string;
  /** validation_failed must name each of these (exactly or as "field.…"); undefined: names not asserted. */
  readonly fields?: readonly string[];
  /** Refused by Node's HTTP parser before Fastify sees it. */
  readonly httpLayer?: boolean;
  readonly intended?: Intended;
  /** The request id we sent and whether the server may echo it. */
  readonly requestId?: { readonly sent: string; readonly echo: boolean };
}

export interface Built {
  readonly wire: Wire;
  readonly expected: Expected;
  readonly labels: readonly string[];
  /** The body text before byte-level faults, for failure reports. */
  readonly preview: string;
}

export const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Builds the bytes for one spec and decides the outcome it must get. `token` makes every key unique. */
export function materialize(spec: CaseSpec, uid: number, token: string, clientKey: string): Built {
  const labels: string[] = [`mode:${spec.mode}`];
  const label = (l: string): void => void (l !== 'ok' && !labels.includes(l) && labels.push(l));

  // ---- body tree
  const { money, description, metadata, userId } = spec;
  const fields: [string, JNode | undefined][] = [
    ['user_id', userId.node],
    ['amount', money.node],
    ['currency', money.currency],
    ['description', description.node],
    ['metadata', metadata.node],
    ...spec.extras.map((e): [string, JNode] => [e.name, e.value]),
  ];
  const ranked = fields
    .map((f, i) => ({ f, rank: spec.order[i % spec.order.length]! * 16 + i }))
    .sort((a, b) => a.rank - b.rank)
    .map((r) => r.f);
  const members = ranked
    .filter((f): f is [string, JNode] => f[1] !== undefined)
    .map(([name, node]) => member(name, node, encodeString(name, spec.keyStyle)));
  const bodyObject = obj(members);
  const root: JNode =
    spec.shape === 'object'
      ? bodyObject
      : spec.shape === 'array-wrapped'
        ? arr([bodyObject])
        : spec.shape === 'empty-array'
          ? arr([])
          : raw({ string: '"charge"', null: 'null', number: '1', true: 'true' }[spec.shape]);
  if (spec.shape !== 'object') label(`shape:${spec.shape}`);
  for (const part of [userId, money, description, metadata]) label(part.label);
  if (spec.extras.length > 0) label('mass-assignment');

  // ---- structural faults on the tree
  const st = spec.structural;
  let deep = false;
  if (st.kind === 'duplicate' || st.kind === 'forbidden' || st.kind === 'deep') {
    const objects = objectsOf(root);
    const target = objects[st.where % Math.max(1, objects.length)];
    if (target === undefined) {
      // a scalar or empty-array body has no object to put the fault in
    } else if (st.kind === 'duplicate') {
      const existing = target[st.which % Math.max(1, target.length)];
      if (existing === undefined) target.push(member('dup', raw('1')), member('dup', st.value));
      else
        target.push(
          member(
            existing.key,
            st.value,
            st.escaped ? encodeString(existing.key, 'escape-all') : JSON.stringify(existing.key),
          ),
        );
      label(target === members ? 'json:duplicate-key' : 'json:duplicate-key-nested');
    } else if (st.kind === 'forbidden') {
      target.push(
        member(st.name, st.value, st.escaped ? encodeString(st.name, 'escape-all') : JSON.stringify(st.name)),
      );
      label(target === members ? 'json:forbidden-key' : 'json:forbidden-key-nested');
    } else {
      // Rendered as text (up to 2,000 levels would overflow the recursive helpers); it sits inside an object, so the
      // document is at least depth + 1 > 8 deep.
      target.push(member('nest', raw(deepText(st.depth, st.shape))));
      deep = true;
      label('json:too-deep');
    }
  }
  const treeDepth = depthOf(root);
  if (treeDepth > MAX_DEPTH) label('json:too-deep');
  if (treeDepth === MAX_DEPTH) label('json:depth-exactly-8');
  const treeInvalid = deep || hasDuplicateKey(root) || hasForbiddenKey(root) || treeDepth > MAX_DEPTH;

  // ---- text and byte faults
  let text = render(root, spec.ws);
  let textMutated = false;
  if (st.kind === 'mutate') {
    let mutated = text;
    for (const [pos, op, ch] of st.ops) {
      const at = pos % (mutated.length + 1);
      if (op === 0) mutated = mutated.slice(0, at) + mutated.slice(at + 1);
      else if (op === 1) mutated = mutated.slice(0, at) + ch + mutated.slice(at);
      else if (op === 2) mutated = mutated.slice(0, at) + ch + mutated.slice(at + 1);
      else mutated = mutated.slice(0, at) + mutated.slice(at, at + 1).repeat(2) + mutated.slice(at + 1);
    }
    // A mutation that still parses is not malformed: fall back to a truncation, which never parses.
    text = parsesAsJson(Buffer.from(mutated))
      ? text.trimEnd().slice(0, (st.ops[0]?.[0] ?? 0) % text.trimEnd().length)
      : mutated;
    textMutated = true;
    label('json:malformed');
  } else if (st.kind === 'truncate') {
    const trimmed = text.trimEnd();
    text = trimmed.slice(0, st.at % trimmed.length);
    textMutated = true;
    label('json:truncated');
  } else if (st.kind === 'not-json') {
    text = st.text;
    textMutated = true;
    label('json:not-json');
  } else if (st.kind === 'empty' || st.kind === 'whitespace-only') {
    text = st.kind === 'empty' ? '' : spec.ws.length > 0 ? spec.ws.repeat(3) : ' \n';
    textMutated = true;
    label(`json:${st.kind}`);
  }
  let body = Buffer.from(text, 'utf8');
  if (st.kind === 'invalid-utf8') {
    const at = st.at % (body.length + 1);
    body = Buffer.concat([body.subarray(0, at), Buffer.from(st.bytes), body.subarray(at)]);
    label('json:invalid-utf8');
  } else if (st.kind === 'bom') {
    body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
    label('json:bom');
  }
  const size = spec.size;
  if (size.kind !== 'normal') {
    const target = size.kind === 'exact-limit' ? BODY_LIMIT : BODY_LIMIT + size.extra;
    if (body.length < target && body.length > 0) {
      const pad = Buffer.from(
        size.pad.repeat(Math.ceil((target - body.length) / size.pad.length)).slice(0, target - body.length),
      );
      body = size.leading ? Buffer.concat([pad, body]) : Buffer.concat([body, pad]);
    }
  }
  if (body.length > BODY_LIMIT) label('size:over-limit');
  else if (body.length === BODY_LIMIT) label('size:exactly-limit');

  // ---- headers
  const headers: [string, string][] = [];
  let needsRaw = false;
  const auth = spec.auth;
  if (auth.kind === 'ok') headers.push(['X-API-Key', clientKey]);
  else if (auth.kind === 'repeated') headers.push(['X-API-Key', clientKey], ['X-API-Key', clientKey]);
  else if (auth.kind === 'wrong') headers.push(['X-API-Key', auth.value]);
  if (auth.kind !== 'ok') label(`auth:${auth.kind}`);

  const ct = spec.contentType;
  if (ct.kind === 'repeated') {
    headers.push(['Content-Type', ct.first], ['Content-Type', ct.second]);
    needsRaw = true; // fetch would join them into one line
    label('content-type:repeated');
  } else if (ct.kind !== 'missing') {
    headers.push(['Content-Type', ct.value]);
    if (ct.kind !== 'ok') label(`content-type:${ct.kind}`);
    else if (ct.value !== 'application/json') label('ok:content-type-variant');
  } else {
    label('content-type:missing');
  }

  const key = keyHeader(spec.key, token);
  if (key.value !== undefined) headers.push(['Idempotency-Key', key.value]);
  if (key.repeatedValue !== undefined) headers.push(['Idempotency-Key', key.repeatedValue]);
  needsRaw ||= key.raw;
  if (key.fault !== undefined || spec.key.kind !== 'uuid') label(`key:${spec.key.kind}`);

  const rid = spec.requestId;
  const sentRequestId = rid.kind === 'safe' ? `rid-${token}` : rid.kind === 'hostile' ? rid.value : undefined;
  if (sentRequestId !== undefined) {
    headers.push(['X-Request-Id', sentRequestId]);
    label(`request-id:${rid.kind}`);
  }

  const leadingLines: string[] = [];
  let contentLength: string | undefined;
  // An oversized header (431) and a parser fault (400) together would race inside the parser: keep one.
  const httpFault = spec.key.kind === 'huge' ? 'none' : spec.httpFault;
  if (httpFault !== 'none') {
    needsRaw = true;
    label(`http:${httpFault}`);
    if (httpFault === 'duplicate-content-length') leadingLines.push(`Content-Length: ${body.length + 1}`);
    else if (httpFault === 'content-length-plus') contentLength = `+${body.length}`;
    else leadingLines.push(...HTTP_FAULT_LINES[httpFault]);
  }
  const transport = needsRaw || spec.preferRaw ? 'raw' : 'fetch';
  // Chunked framing only without parser faults: "Transfer-Encoding: gzip" plus chunked is "gzip, chunked", which is valid.
  const chunks = transport === 'raw' && httpFault === 'none' ? spec.chunks : 0;
  if (transport === 'raw') label(chunks > 0 ? 'transport:raw-chunked' : 'transport:raw');

  // ---- the oracle, in the server's order
  // Fastify runs the body parser whenever a Content-Type is sent (even for an empty body), otherwise only for a body.
  const parsed = ct.kind !== 'missing' || chunks > 0 || body.length > 0;
  const intendedBase = money.intended;
  const expected = ((): Expected => {
    const requestId =
      sentRequestId === undefined ? undefined : { sent: sentRequestId, echo: SAFE_REQUEST_ID.test(sentRequestId) };
    if (key.fault === 'http431') return { status: 431, httpLayer: true };
    if (httpFault !== 'none' || key.fault === 'http400') return { status: 400, httpLayer: true };
    const problem = (status: number, code: string, fields?: readonly string[]): Expected => ({
      status,
      code,
      fields,
      requestId,
    });
    if (auth.kind !== 'ok') return problem(401, 'unauthorized');
    if (parsed) {
      const effective = ct.kind === 'repeated' ? (ct.firstOk ? 'ok' : 'bad-media-type') : ct.kind;
      if (effective === 'missing' || effective === 'bad-media-type') return problem(415, 'unsupported_media_type');
      if (body.length > BODY_LIMIT) return problem(413, 'payload_too_large');
      if (effective === 'bad-charset') return problem(415, 'unsupported_media_type');
      if (!parsesAsJson(body) || (!textMutated && treeInvalid)) return problem(400, 'invalid_json');
    }
    if (key.fault !== undefined) return problem(400, 'invalid_idempotency_key');
    if (!parsed || spec.shape !== 'object') return problem(422, 'validation_failed', ['body']);
    const named = [
      userId.fault,
      money.fault,
      money.currencyFault,
      description.fault,
      metadata.fault,
      ...spec.extras.map((e) => e.name),
    ].filter((f): f is string => f !== undefined);
    // The amount is only checked against a currency the server knows; a wrong type is the schema's to report anyway.
    const amountNamed = money.currencyFault === undefined || money.label === 'currency:type-confusion';
    if (named.length > 0)
      return problem(
        422,
        'validation_failed',
        named.filter((f) => f !== 'amount' || amountNamed),
      );
    if (userId.business === 'user_not_found') return problem(404, 'user_not_found');
    if (money.business === 'currency_not_supported') return problem(422, 'currency_not_supported');
    if (money.business === 'insufficient_balance') return problem(400, 'insufficient_balance');
    if (intendedBase === undefined || key.stored === undefined)
      throw new Error('generator bug: a valid request without an amount or key');
    return {
      status: 200,
      requestId,
      intended: { ...intendedBase, description: description.echo, metadata: metadata.echo, storedKey: key.stored },
    };
  })();
  if (expected.status === 200) labels.push('valid');

  return {
    wire: { transport, headers, body, chunks, leadingLines, contentLength },
    expected,
    labels,
    preview: text.length > 300 ? `${text.slice(0, 300)}… (${body.length} bytes)` : text,
  };
}
