// The closed set of expected failures, each with its HTTP status, title and default detail.
// Services return these codes as values; the error handler is the only place that turns them into responses.

export interface ErrorSpec {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** A transient failure: nothing was decided, the same request may be sent again after Retry-After seconds. */
  readonly retry?: true;
}

export const ERRORS = {
  unauthorized: { status: 401, title: 'Unauthorized', detail: 'Invalid or missing API Key' },
  insufficient_scope: {
    status: 403,
    title: 'Insufficient scope',
    detail: 'This API key lacks the scope this endpoint needs',
  },
  invalid_idempotency_key: {
    status: 400,
    title: 'Invalid Idempotency-Key',
    detail: 'Idempotency-Key header must be 1-255 printable ASCII characters',
  },
  invalid_json: { status: 400, title: 'Malformed JSON', detail: 'The request body is not valid JSON' },
  bad_request: { status: 400, title: 'Bad request', detail: 'The HTTP request is malformed' },
  headers_too_large: { status: 431, title: 'Request headers too large', detail: 'The request headers are too large' },
  insufficient_balance: { status: 400, title: 'Insufficient balance', detail: 'Insufficient balance' },
  user_not_found: { status: 404, title: 'User not found', detail: 'User not found' },
  charge_not_found: { status: 404, title: 'Charge not found', detail: 'Charge not found' },
  refund_not_found: { status: 404, title: 'Refund not found', detail: 'Refund not found' },
  authorization_not_found: { status: 404, title: 'Authorization not found', detail: 'Authorization not found' },
  webhook_endpoint_not_found: {
    status: 404,
    title: 'Webhook endpoint not found',
    detail: 'Webhook endpoint not found',
  },
  not_found: { status: 404, title: 'Not found', detail: 'No such endpoint' },
  method_not_allowed: { status: 405, title: 'Method not allowed', detail: 'Method not allowed' },
  idempotency_key_in_use: {
    status: 409,
    title: 'Idempotency-Key in use',
    detail: 'A request with this Idempotency-Key is still being processed; retry later',
    retry: true,
  },
  payload_too_large: { status: 413, title: 'Payload too large', detail: 'The request body is too large' },
  unsupported_media_type: {
    status: 415,
    title: 'Unsupported media type',
    detail: 'Send the body as application/json',
  },
  validation_failed: { status: 422, title: 'Validation failed', detail: 'The request is invalid' },
  currency_not_supported: {
    status: 422,
    title: 'Currency not supported',
    detail: 'User has no account in this currency',
  },
  idempotency_key_reused: {
    status: 422,
    title: 'Idempotency-Key reused',
    detail: 'This Idempotency-Key was already used with a different request',
  },
  balance_limit_exceeded: {
    status: 422,
    title: 'Balance limit exceeded',
    detail: 'The credit would take the balance above the largest supported amount',
  },
  refund_exceeds_charge: {
    status: 422,
    title: 'Refund exceeds charge',
    detail: 'The refund would take the refunded total above the charge amount',
  },
  charge_not_refundable: {
    status: 422,
    title: 'Charge not refundable',
    detail: 'The charge has already been fully refunded',
  },
  authorization_expired: {
    status: 422,
    title: 'Authorization expired',
    detail: 'The authorization expired and its amount was released',
  },
  authorization_already_captured: {
    status: 409,
    title: 'Authorization already captured',
    detail: 'The authorization was already captured',
  },
  authorization_not_pending: {
    status: 409,
    title: 'Authorization not pending',
    detail: 'The authorization was voided',
  },
  capture_exceeds_authorization: {
    status: 422,
    title: 'Capture exceeds authorization',
    detail: 'The capture amount is more than the authorization holds',
  },
  webhook_url_refused: {
    status: 422,
    title: 'Webhook URL refused',
    detail: 'The URL must be http or https, without credentials, and resolve only to public addresses',
  },
  rate_limited: { status: 429, title: 'Too many requests', detail: 'Rate limit exceeded; retry later', retry: true },
  internal_error: { status: 500, title: 'Internal server error', detail: 'An unexpected error occurred' },
  database_unavailable: {
    status: 503,
    title: 'Service unavailable',
    detail: 'The database is unavailable or busy; retry with the same Idempotency-Key',
    retry: true,
  },
  overloaded: {
    status: 503,
    title: 'Overloaded',
    detail: 'The server is at capacity and did not start this request; retry with the same Idempotency-Key',
    retry: true,
  },
  outcome_unknown: {
    status: 503,
    title: 'Outcome unknown',
    detail:
      'The request was not answered within its deadline; it may still complete. Retry with the same Idempotency-Key to learn the outcome',
    retry: true,
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** Every code, in the table's order: what clients (packages/client) must know. */
export const ERROR_CODES = Object.keys(ERRORS) as readonly ErrorCode[];

/** Seconds before a retry when nothing says otherwise (the rate limiter knows its own window). */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/**
 * The one rule for Retry-After: a code marked `retry` in the table carries it (the limiter passes the seconds left in
 * its window), every other code does not. Used by the responses and by the OpenAPI document alike.
 */
export function retryAfter(code: ErrorCode, seconds: number = DEFAULT_RETRY_AFTER_SECONDS): string | undefined {
  const spec: ErrorSpec = ERRORS[code];
  return spec.retry === true ? String(Math.max(1, Math.ceil(seconds))) : undefined;
}

/** Codes a money operation may record under its Idempotency-Key as a final decision (rendered in SQL). */
export const RECORDED_DECLINES = [
  'insufficient_balance',
  'user_not_found',
  'currency_not_supported',
  'balance_limit_exceeded',
  'charge_not_found',
  'refund_exceeds_charge',
  'charge_not_refundable',
  'authorization_not_found',
  'authorization_expired',
  'authorization_already_captured',
  'authorization_not_pending',
  'capture_exceeds_authorization',
] as const satisfies readonly ErrorCode[];

export interface FieldError {
  readonly field: string;
  readonly message: string;
  /** A finer machine code for the field, e.g. too_many_decimals for an amount. */
  readonly code?: string;
}

/** A failure a service returns as a value. */
export interface Failure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly detail?: string;
  readonly errors?: readonly FieldError[];
}

export function failure(code: ErrorCode, detail?: string, errors?: readonly FieldError[]): Failure {
  return { ok: false, code, detail, errors };
}

/** Thrown from deep inside request handling (auth hook, parsers) and rendered by the error handler. */
/** RFC 9457 extension members a problem may carry: the closed set PicoPay uses. */
export interface ProblemExtras {
  /** insufficient_scope: the scope the key lacks. */
  readonly scope?: string;
}

export class ProblemError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  readonly errors: readonly FieldError[] | undefined;
  readonly extras: ProblemExtras | undefined;
  constructor(code: ErrorCode, detail?: string, errors?: readonly FieldError[], extras?: ProblemExtras) {
    super(detail ?? ERRORS[code].detail);
    this.code = code;
    this.detail = detail;
    this.errors = errors;
    this.extras = extras;
  }
}

/** RFC 9457 problem body. Member order matches picopay_problem() in SQL so recorded declines are byte-equal. */
export function renderProblem(
  code: ErrorCode,
  detail?: string,
  errors?: readonly FieldError[],
  extras?: ProblemExtras,
): string {
  const spec: ErrorSpec = ERRORS[code];
  const body: Record<string, unknown> = {
    type: `urn:picopay:problem:${code}`,
    title: spec.title,
    status: spec.status,
    detail: detail ?? spec.detail,
    code,
  };
  if (errors !== undefined && errors.length > 0) body.errors = errors;
  if (extras?.scope !== undefined) body.scope = extras.scope;
  return JSON.stringify(body);
}
