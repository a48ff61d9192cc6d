// Scenario 13's reply checks: what every reply must satisfy (status and code, problem+json, request id, no leaked
// internals, a charge that echoes exactly what was sent) and what it did to the fixture's balance.
import { type Expected, SAFE_REQUEST_ID } from './oracle.ts';
import type { HttpReply } from './wire.ts';

/** Server internals that must never reach a client: stack frames, source paths, SQL, PostgreSQL errors. */
export const LEAK =
  /\bat .*\(|\.ts:\d|node_modules|\/work\/|SELECT |INSERT |UPDATE |DELETE FROM|pg_|syntax error at|violates|relation "|DatabaseError/;
/** What Node/Fastify answer when the HTTP parser refuses a request (Fastify's default clientErrorHandler). */
export const HTTP_LAYER_BODIES: ReadonlySet<string> = new Set([
  '{"error":"Bad Request","message":"Client Error","statusCode":400}',
  '{"error":"Request Header Fields Too Large","message":"Exceeded maximum allowed HTTP header size","statusCode":431}',
]);

export interface Verdict {
  readonly problems: string[];
  /** A non-replayed 200: what it took from the fixture's balance. */
  readonly debit?: {
    readonly currency: string;
    readonly minor: number;
    readonly key: string;
    readonly intended: boolean;
  };
  /** Recorded under the key (200 or a final decline): the stored key. */
  readonly recordedKey?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Client-controlled text the API echoes on purpose (quoted keys in parser messages), removed before the leak scan. */
const stripQuoted = (s: string): string => s.replace(/"(?:[^"\\]|\\.)*"/g, '""');

export function checkReply(expected: Expected, reply: HttpReply, uid: number, token: string): Verdict {
  const problems: string[] = [];
  if (reply.status === 0) return { problems: [`no HTTP answer: ${reply.error ?? 'connection closed'}`] };
  if (reply.status >= 500) problems.push(`server error ${reply.status}`);
  if (reply.status !== expected.status) {
    problems.push(
      `status ${reply.status}, expected ${expected.status}${expected.code === undefined ? '' : ` ${expected.code}`}`,
    );
  }
  if (Object.keys(reply.headers).some((h) => h.includes('injected'))) problems.push('an injected header came back');
  const leakScan = (text: string, what: string): void => {
    if (LEAK.test(text)) problems.push(`${what} leaks internals: ${text.slice(0, 200)}`);
  };
  for (const [name, value] of Object.entries(reply.headers))
    if (name !== 'x-request-id') leakScan(`${name}: ${value}`, 'a header');

  if (expected.httpLayer === true) {
    const problem = parseJson(reply.body);
    if (!HTTP_LAYER_BODIES.has(reply.body) && !(isRecord(problem) && typeof problem.code === 'string')) {
      problems.push(`unexpected HTTP-layer body: ${reply.body.slice(0, 200)}`);
    }
    leakScan(reply.body, 'the body');
    return { problems };
  }

  const rid = reply.headers['x-request-id'];
  if (rid === undefined || !SAFE_REQUEST_ID.test(rid))
    problems.push(`unsafe or missing X-Request-Id: ${JSON.stringify(rid)}`);
  else if (expected.requestId !== undefined && (rid === expected.requestId.sent) !== expected.requestId.echo) {
    problems.push(
      `X-Request-Id ${expected.requestId.echo ? 'not echoed' : 'echoed although unsafe'}: ${JSON.stringify(expected.requestId.sent)}`,
    );
  }

  const parsed = parseJson(reply.body);
  let verdict: Verdict = { problems };
  if (reply.status >= 200 && reply.status < 300) {
    if (!isRecord(parsed) || !isRecord(parsed.transaction)) {
      problems.push(`2xx body is not a charge: ${reply.body.slice(0, 200)}`);
      return verdict;
    }
    const t = parsed.transaction;
    const replayed = reply.headers['idempotent-replayed'] === 'true';
    const key = typeof t.idempotency_key === 'string' ? t.idempotency_key : '';
    verdict = {
      problems,
      debit: replayed
        ? undefined
        : {
            currency: String(t.currency),
            minor: Number(t.amount_minor),
            key,
            intended: expected.intended !== undefined,
          },
      recordedKey: key,
    };
    const intended = expected.intended;
    if (intended !== undefined) {
      const want = {
        user_id: uid,
        currency: intended.currency,
        amount_minor: intended.minor,
        type: 'charge',
        status: 'completed',
        idempotency_key: intended.storedKey,
        description: intended.description,
      };
      for (const [field, value] of Object.entries(want)) {
        if (t[field] !== value)
          problems.push(`transaction.${field} is ${JSON.stringify(t[field])}, sent ${JSON.stringify(value)}`);
      }
      const metadata = isRecord(t.metadata) ? t.metadata : {};
      const same =
        Object.keys(metadata).length === Object.keys(intended.metadata).length &&
        Object.entries(intended.metadata).every(([k, v]) => Object.hasOwn(metadata, k) && metadata[k] === v);
      if (!same)
        problems.push(`metadata came back as ${JSON.stringify(metadata)}, sent ${JSON.stringify(intended.metadata)}`);
      if (parsed.new_balance_minor !== t.balance_after_minor || !(Number(parsed.new_balance_minor) >= 0))
        problems.push('inconsistent new balance');
    }
    const { description: _d, metadata: _m, idempotency_key: _k, ...rest } = t;
    leakScan(JSON.stringify({ ...parsed, transaction: rest }), 'the body');
    return verdict;
  }

  // Every non-2xx answer is problem+json with a string code and detail.
  if (!/^application\/problem\+json/.test(reply.headers['content-type'] ?? ''))
    problems.push(`content-type ${reply.headers['content-type']}`);
  if (!isRecord(parsed) || typeof parsed.code !== 'string' || typeof parsed.detail !== 'string') {
    problems.push(`not a problem body: ${reply.body.slice(0, 200)}`);
    return verdict;
  }
  if (parsed.status !== reply.status) problems.push(`problem status ${String(parsed.status)} on a ${reply.status}`);
  if (parsed.type !== `urn:picopay:problem:${parsed.code}` || typeof parsed.title !== 'string')
    problems.push('problem type/title');
  if (expected.code !== undefined && parsed.code !== expected.code)
    problems.push(`code ${parsed.code}, expected ${expected.code}`);
  if (reply.status === 401 && reply.headers['www-authenticate'] !== 'ApiKey')
    problems.push('401 without WWW-Authenticate: ApiKey');
  const errors = Array.isArray(parsed.errors) ? parsed.errors.filter(isRecord) : [];
  if (parsed.code === 'validation_failed' && expected.fields !== undefined) {
    const named = errors.map((e) => String(e.field));
    const covers = (field: string, n: string): boolean => n === field || n.startsWith(`${field}.`);
    // Sound: only fields the generator broke are named. Complete up to TypeBox's cap of 8 schema issues per request
    // (an anyOf field costs 3): with one or two broken fields every one is named, with more at least one is.
    for (const n of named)
      if (!expected.fields.some((f) => covers(f, n))) problems.push(`422 names ${JSON.stringify(n)}, which was valid`);
    const unnamed = expected.fields.filter((f) => !named.some((n) => covers(f, n)));
    if (expected.fields.length <= 2 ? unnamed.length > 0 : unnamed.length === expected.fields.length) {
      problems.push(`422 does not name ${JSON.stringify(unnamed)}: ${JSON.stringify(named)}`);
    }
  }
  if (
    ['user_not_found', 'currency_not_supported', 'insufficient_balance'].includes(parsed.code) &&
    reply.headers['idempotent-replayed'] !== 'true'
  ) {
    verdict = { problems, recordedKey: token };
  }
  leakScan(
    JSON.stringify({ ...parsed, detail: stripQuoted(parsed.detail), errors: errors.map((e) => e.message) }),
    'the problem',
  );
  return verdict;
}
