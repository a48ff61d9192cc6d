// Verifying PicoPay's webhooks on the receiving side, per the Standard Webhooks specification (what the
// `standardwebhooks` reference library checks): HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>" with the
// endpoint's whsec_ secret, compared in constant time against every v1 signature in the header, and a timestamp
// within a tolerance of now (5 minutes), so a captured request cannot be replayed later.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Seconds a webhook-timestamp may differ from the receiver's clock. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
}

/** The event a verified webhook carries: the Standard Webhooks payload. */
export interface WebhookEvent<T = unknown> {
  readonly type: string;
  readonly timestamp: string;
  readonly data: T;
}

export type WebhookHeaders =
  Readonly<Record<string, string | string[] | undefined>> | { get(name: string): string | null };

function header(headers: WebhookHeaders, name: string): string {
  const value =
    typeof headers.get === 'function'
      ? (headers as { get(name: string): string | null }).get(name)
      : (headers as Record<string, string | string[] | undefined>)[name];
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' || text === '') throw new WebhookVerificationError(`missing ${name} header`);
  return text;
}

function secretBytes(secret: string): Buffer {
  const bytes = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  if (bytes.length === 0) throw new WebhookVerificationError('the secret is empty');
  return bytes;
}

export interface VerifyOptions {
  /** Defaults to WEBHOOK_TOLERANCE_SECONDS. */
  readonly toleranceSeconds?: number;
  /** The receiver's clock, for tests. */
  readonly now?: Date;
}

/**
 * Verifies a webhook request and returns its event. `payload` must be the raw body exactly as received (not
 * re-serialized JSON); `headers` a Node IncomingHttpHeaders-like record (lower-case names) or a fetch Headers.
 * Throws WebhookVerificationError when a header is missing, the timestamp is out of tolerance or no signature matches.
 */
export function verify<T = unknown>(
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyOptions = {},
): WebhookEvent<T> {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!/^\d{1,15}$/.test(timestamp)) throw new WebhookVerificationError('invalid webhook-timestamp');
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (Math.abs(now - Number(timestamp)) > tolerance)
    throw new WebhookVerificationError('webhook-timestamp outside the tolerance');
  const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const expected = createHmac('sha256', secretBytes(secret)).update(`${id}.${timestamp}.`).update(body).digest();
  const matches = signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2);
    if (version !== 'v1' || signature === undefined) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('no matching signature');
  return JSON.parse(body.toString('utf8')) as WebhookEvent<T>;
}

/** `client.webhooks`, also usable without a client (a receiver needs no API key). */
export const webhooks = { verify } as const;
