// @picopay/client: a typed PicoPay API client whose retries can never charge twice.
export { PicoPay, type ClientOptions, type EventListParams, type Id, type TransactionList } from './client.ts';
export {
  API_ERROR_CODES,
  CLIENT_ERROR_CODES,
  PicoPayApiError,
  PicoPayConnectionError,
  PicoPayError,
  PicoPayInsufficientScopeError,
  PicoPayTimeoutError,
  type ErrorCode,
} from './errors.ts';
export {
  backoffDelay,
  DEFAULTS,
  parseRetryAfter,
  type FetchLike,
  type RequestOptions,
  type RetryInfo,
} from './transport.ts';
export { ROUTES, type FieldSpec, type JsonType, type RouteContract, type Shape, type Spec } from './contract.ts';
export {
  verify as verifyWebhook,
  webhooks,
  WEBHOOK_TOLERANCE_SECONDS,
  WebhookVerificationError,
  type VerifyOptions,
  type WebhookEvent,
  type WebhookHeaders,
} from './webhooks.ts';
export type * from './types.ts';
