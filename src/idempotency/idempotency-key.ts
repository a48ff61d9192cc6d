import { hash } from 'node:crypto';

// One-shot hashing to hex (no Hash object, no Buffer): the fingerprint runs on every charge and replay, and the caches
// compare it as text. 0.3 µs against 1.3 µs for createHash().digest() on this machine.
const sha256 = (text: string): string => hash('sha256', text, 'hex');

// No comma in the bare form: HTTP lets intermediaries join repeated header lines with ", " (RFC 9110 §5.3), so a bare
// "a, b" may be two keys. A key with a comma must be quoted.
const BARE = /^[\x21-\x2b\x2d-\x7e](?:[\x20-\x2b\x2d-\x7e]{0,253}[\x21-\x2b\x2d-\x7e])?$/;
// RFC 8941 sf-string: printable ASCII, with \" and \\ as the only escapes.
const QUOTED = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;

/**
 * The Idempotency-Key header's value, bare (`550e8400-…`) or as an RFC 8941 quoted string; undefined when it is
 * missing, empty, longer than 255 characters, not printable ASCII, or bare with a comma (see BARE).
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const quoted = QUOTED.exec(header);
  const key = quoted?.[1] !== undefined ? quoted[1].replace(/\\(["\\])/g, '$1') : header;
  if (key.length === 0 || key.length > 255) return undefined;
  if (quoted === null && !BARE.test(key)) return undefined;
  return key;
}

/** What makes two requests "the same" for an Idempotency-Key: the operation and every field that moves money. */
export interface FingerprintInput {
  readonly operation: 'charge' | 'credit';
  readonly userId: bigint;
  readonly currency: string;
  readonly amountMinor: bigint;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
}

/** SHA-256 of the canonical request, as 64 hex digits. */
export function fingerprint(input: FingerprintInput): string {
  const metadata = Object.keys(input.metadata)
    .sort()
    .map((k) => [k, input.metadata[k]]);
  const canonical = JSON.stringify([
    input.operation,
    input.userId.toString(),
    input.currency,
    input.amountMinor.toString(),
    input.description,
    metadata,
  ]);
  return sha256(canonical);
}

/** What makes two refund requests "the same": the charge, the amount ("full" when none was given) and the reason. */
export interface RefundFingerprintInput {
  readonly chargeId: bigint;
  /** Exact decimal text of the amount, the same for every spelling of it, or 'full'. */
  readonly amount: string;
  readonly reason: string | null;
}

// The leading 'refund' keeps a refund's canonical form from ever equalling a charge's or a credit's.
export function refundFingerprint(input: RefundFingerprintInput): string {
  const canonical = JSON.stringify(['refund', input.chargeId.toString(), input.amount, input.reason]);
  return sha256(canonical);
}

/** The hold operations: each fingerprint starts with its own name, so none can equal another operation's. */
export type HoldOperation = 'authorize' | 'capture' | 'void';

/** SHA-256 of a hold request: its operation, then every field that decides it (amounts as exact minor-unit text). */
export function holdFingerprint(operation: HoldOperation, fields: readonly (string | null)[]): string {
  return sha256(JSON.stringify([operation, ...fields]));
}
