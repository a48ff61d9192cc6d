// One POST of one event to one endpoint, signed per Standard Webhooks. The request connects to the address the SSRF
// guard checked (a pinned lookup), follows no redirect (a 3xx is a failed attempt), is bounded as a whole by the
// timeout, and reads at most RESPONSE_BYTES of the answer (only the status matters; the rest is discarded).
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { checkWebhookUrl, type Checked, type Resolver, type Target } from './url-guard.ts';

const RESPONSE_BYTES = 4096;

export interface Outcome {
  readonly delivered: boolean;
  /** The HTTP status, or undefined when there was none. */
  readonly status: number | undefined;
  /** Why it failed without a status (refused address, timeout, connection error); undefined otherwise. */
  readonly error: string | undefined;
  readonly durationMs: number;
}

export interface Delivery {
  readonly url: string;
  readonly secret: string;
  readonly webhookId: string;
  /** The Standard Webhooks payload: {"type", "timestamp", "data"}. */
  readonly body: string;
}

export interface DeliverOptions {
  readonly timeoutMs: number;
  readonly allowlist: readonly string[];
  readonly resolve?: Resolver;
  /** Cuts the request short (the server is stopping). */
  readonly signal?: AbortSignal;
}

/** The headers of a Standard Webhooks request: webhook-id, webhook-timestamp (seconds), webhook-signature (v1,…). */
export function signedHeaders(delivery: Delivery, now: Date): Record<string, string> {
  const signature = new Webhook(delivery.secret).sign(delivery.webhookId, now, delivery.body);
  return {
    'content-type': 'application/json',
    'user-agent': 'PicoPay-Webhooks/1',
    'webhook-id': delivery.webhookId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

function pinned(target: Target): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all === true) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as LookupFunction;
}

function post(target: Target, headers: Record<string, string>, body: string, timeoutMs: number, stop?: AbortSignal) {
  return new Promise<{ status: number | undefined; error: string | undefined }>((resolve) => {
    const client = target.url.protocol === 'https:' ? https : http;
    const request = client.request(target.url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: pinned(target),
      signal:
        stop === undefined ? AbortSignal.timeout(timeoutMs) : AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]),
      agent: false,
    });
    request.on('response', (response) => {
      const status = response.statusCode;
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > RESPONSE_BYTES) response.destroy();
      });
      const done = (): void => resolve({ status, error: undefined });
      response.on('end', done);
      response.on('close', done);
      response.on('error', done);
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      const timedOut = error.name === 'AbortError' || error.name === 'TimeoutError';
      resolve({ status: undefined, error: timedOut ? `timeout after ${timeoutMs} ms` : (error.code ?? error.message) });
    });
    request.end(body);
  });
}

/** Checks the URL again (DNS may have changed since creation), then POSTs. Never throws. */
export async function deliver(delivery: Delivery, options: DeliverOptions, now = new Date()): Promise<Outcome> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  // The name's lookup counts against the timeout too: getaddrinfo has no bound of its own.
  let timer: NodeJS.Timeout | undefined;
  const slow = new Promise<Checked>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: 'host lookup timed out' }), options.timeoutMs);
  });
  const checked = await Promise.race([checkWebhookUrl(delivery.url, options.allowlist, options.resolve), slow]);
  clearTimeout(timer);
  if (!checked.ok)
    return { delivered: false, status: undefined, error: `refused: ${checked.reason}`, durationMs: elapsed() };
  const headers = signedHeaders(delivery, now);
  const { status, error } = await post(checked.target, headers, delivery.body, options.timeoutMs, options.signal);
  const delivered = status !== undefined && status >= 200 && status < 300;
  return { delivered, status, error, durationMs: elapsed() };
}
