import type { FieldError } from './types.ts';

/**
 * Every code the server's error table (src/lib/errors.ts ERRORS) can put in a problem's `code`, in its order;
 * test/client/error-codes.test.ts holds the two lists equal.
 */
export const API_ERROR_CODES = [
  'unauthorized',
  'insufficient_scope',
  'invalid_idempotency_key',
  'invalid_json',
  'bad_request',
  'headers_too_large',
  'insufficient_balance',
  'user_not_found',
  'charge_not_found',
  'refund_not_found',
  'authorization_not_found',
  'webhook_endpoint_not_found',
  'not_found',
  'method_not_allowed',
  'idempotency_key_in_use',
  'payload_too_large',
  'unsupported_media_type',
  'validation_failed',
  'currency_not_supported',
  'idempotency_key_reused',
  'balance_limit_exceeded',
  'refund_exceeds_charge',
  'charge_not_refundable',
  'authorization_expired',
  'authorization_already_captured',
  'authorization_not_pending',
  'capture_exceeds_authorization',
  'webhook_url_refused',
  'rate_limited',
  'internal_error',
  'database_unavailable',
  'overloaded',
  'outcome_unknown',
] as const;

/** The client's own codes, for failures with no response. */
export const CLIENT_ERROR_CODES = ['connection_error', 'timeout'] as const;

/** A code of the API or of the client; any other string may appear from newer servers or proxies. */
export type ErrorCode = (typeof API_ERROR_CODES)[number] | (typeof CLIENT_ERROR_CODES)[number] | (string & {});

export interface PicoPayErrorInit {
  readonly status?: number | undefined;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly requestId?: string | undefined;
  readonly errors?: readonly FieldError[] | undefined;
  readonly idempotencyKey?: string | undefined;
  readonly attempts: number;
  readonly cause?: unknown;
}

/** Every error the client throws (except the caller's own abort reason). */
export class PicoPayError extends Error {
  /** HTTP status, undefined when no response arrived. */
  readonly status: number | undefined;
  /** Stable machine code: the problem's `code`, or connection_error / timeout. */
  readonly code: ErrorCode;
  /** The human sentence. */
  readonly detail: string;
  /** X-Request-Id of the last response, when there was one. */
  readonly requestId: string | undefined;
  /** Field errors of a 422 validation_failed. */
  readonly errors: readonly FieldError[];
  /**
   * The Idempotency-Key every attempt carried. After a connection error or timeout the outcome is unknown:
   * calling again later with this key either replays the result or performs the operation once.
   */
  readonly idempotencyKey: string | undefined;
  readonly attempts: number;

  constructor(init: PicoPayErrorInit) {
    const message =
      init.status === undefined ? `${init.code}: ${init.detail}` : `${init.status} ${init.code}: ${init.detail}`;
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.errors = init.errors ?? [];
    this.idempotencyKey = init.idempotencyKey;
    this.attempts = init.attempts;
  }
}

/** The server answered with an error status (a decline, a validation error, or a transient 409/429/5xx). */
export class PicoPayApiError extends PicoPayError {
  declare readonly status: number;
}

/**
 * 403 insufficient_scope: the API key may not call this route. Never retried: ask for a key with `scope` (the key
 * holds none of the scopes the route accepts; the narrowest one is named).
 */
export class PicoPayInsufficientScopeError extends PicoPayApiError {
  readonly scope: string | undefined;
  constructor(init: PicoPayErrorInit & { readonly scope: string | undefined }) {
    super(init);
    this.scope = init.scope;
  }
}

/** No response: the connection failed or was cut. A money call may or may not have happened: retry with its key. */
export class PicoPayConnectionError extends PicoPayError {}

/** An attempt took longer than `timeoutMs` (or ran into the call's deadline). Same uncertainty as a lost connection. */
export class PicoPayTimeoutError extends PicoPayConnectionError {}
