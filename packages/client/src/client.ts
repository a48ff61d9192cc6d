import { ROUTES } from './contract.ts';
import { Transport, type RequestOptions, type TransportOptions } from './transport.ts';
import type {
  ApiResult,
  Authorization,
  AuthorizeParams,
  CaptureParams,
  ChargeCreateParams,
  CreditParams,
  EventPage,
  EventType,
  MoneyResult,
  PicoPayEvent,
  RefundParams,
  Transaction,
  TransactionPage,
  TransactionsQuery,
  User,
  UserCreateParams,
} from './types.ts';
import { webhooks } from './webhooks.ts';

export type ClientOptions = TransportOptions;

/** users.transactions(): iterate transactions (newest first) or whole pages; both follow next_cursor until null. */
export interface TransactionList extends AsyncIterable<Transaction> {
  pages(): AsyncIterable<ApiResult<TransactionPage>>;
}

/** Ids are the API's positive integers; a string of digits is accepted too. */
export type Id = number | string;

/** events.list() and events.iterate(): where to start, the page size, which types. */
export interface EventListParams {
  /** The last event id you processed (exclusive); absent or 0: from the oldest retained event. */
  after?: number | string;
  limit?: number;
  type?: EventType | readonly EventType[];
}

/**
 * The PicoPay API. Money-moving calls (charges.create, charges.refund, users.credit, authorizations.create,
 * .capture, .void) always carry an Idempotency-Key, yours or one generated per call, and are retried with it, so a
 * call performs its operation at most once however many attempts it takes.
 */
export class PicoPay {
  readonly charges: {
    create(params: ChargeCreateParams, options?: RequestOptions): Promise<ApiResult<MoneyResult>>;
    retrieve(id: Id, options?: RequestOptions): Promise<ApiResult<Transaction>>;
    /** POST /charges/{id}/refunds; without an amount, the whole charge. */
    refund(id: Id, params?: RefundParams, options?: RequestOptions): Promise<ApiResult<MoneyResult>>;
  };

  readonly users: {
    /** Not idempotent on the server: retried only when the request certainly had no effect. */
    create(params?: UserCreateParams, options?: RequestOptions): Promise<ApiResult<User>>;
    retrieve(id: Id, options?: RequestOptions): Promise<ApiResult<User>>;
    credit(id: Id, params: CreditParams, options?: RequestOptions): Promise<ApiResult<MoneyResult>>;
    transactions(id: Id, query?: Omit<TransactionsQuery, 'cursor'>, options?: RequestOptions): TransactionList;
    /** One page, for callers that keep the cursor themselves. */
    transactionsPage(id: Id, query?: TransactionsQuery, options?: RequestOptions): Promise<ApiResult<TransactionPage>>;
  };

  /** Holds: reserve now, capture (all or part) or void later; each POST exactly once per Idempotency-Key. */
  readonly authorizations: {
    create(params: AuthorizeParams, options?: RequestOptions): Promise<ApiResult<Authorization>>;
    retrieve(id: Id, options?: RequestOptions): Promise<ApiResult<Authorization>>;
    /** POST /authorizations/{id}/capture; without an amount, the whole hold. */
    capture(id: Id, params?: CaptureParams, options?: RequestOptions): Promise<ApiResult<Authorization>>;
    void(id: Id, options?: RequestOptions): Promise<ApiResult<Authorization>>;
  };

  /**
   * The events feed (GET /events), oldest first. Keep the last id you processed and pass it back as `after`: you
   * resume exactly there, nothing skipped. `iterate` follows next_after while has_more, then ends (poll it again).
   */
  readonly events: {
    list(params?: EventListParams, options?: RequestOptions): Promise<ApiResult<EventPage>>;
    iterate(params?: EventListParams, options?: RequestOptions): AsyncIterable<PicoPayEvent>;
  };

  /** Verifying the webhooks PicoPay sends (Standard Webhooks signatures); needs no API key. */
  readonly webhooks = webhooks;

  constructor(options: ClientOptions) {
    const http = new Transport(options);
    const list = (params: EventListParams = {}, o?: RequestOptions): Promise<ApiResult<EventPage>> => {
      const type = params.type === undefined || typeof params.type === 'string' ? params.type : params.type.join(',');
      const after = params.after === undefined ? undefined : String(params.after);
      return http.call(ROUTES.eventsList, { query: { after, limit: params.limit, type } }, o);
    };
    this.events = {
      list,
      iterate: (params = {}, o) => ({
        async *[Symbol.asyncIterator]() {
          let after = params.after;
          for (;;) {
            const page = await list({ ...params, after }, o);
            yield* page.data.data;
            if (!page.data.has_more) return;
            after = page.data.next_after;
          }
        },
      }),
    };
    this.authorizations = {
      create: (params, o) => http.call(ROUTES.authorizationsCreate, { body: params }, o),
      retrieve: (id, o) => http.call(ROUTES.authorizationsRetrieve, { params: { id } }, o),
      capture: (id, params = {}, o) => http.call(ROUTES.authorizationsCapture, { params: { id }, body: params }, o),
      void: (id, o) => http.call(ROUTES.authorizationsVoid, { params: { id }, body: {} }, o),
    };
    this.charges = {
      create: (params, o) => http.call(ROUTES.chargesCreate, { body: params }, o),
      retrieve: (id, o) => http.call(ROUTES.chargesRetrieve, { params: { id } }, o),
      refund: (id, params = {}, o) => http.call(ROUTES.chargesRefund, { params: { id }, body: params }, o),
    };
    const page = (id: Id, query: TransactionsQuery = {}, o?: RequestOptions): Promise<ApiResult<TransactionPage>> =>
      http.call(ROUTES.usersTransactions, { params: { id }, query }, o);
    this.users = {
      create: (params = {}, o) => http.call(ROUTES.usersCreate, { body: params }, o),
      retrieve: (id, o) => http.call(ROUTES.usersRetrieve, { params: { id } }, o),
      credit: (id, params, o) => http.call(ROUTES.usersCredit, { params: { id }, body: params }, o),
      transactionsPage: page,
      transactions: (id, query = {}, o) => {
        async function* pages(): AsyncGenerator<ApiResult<TransactionPage>> {
          let cursor: string | undefined;
          for (;;) {
            const result = await page(id, cursor === undefined ? query : { ...query, cursor }, o);
            yield result;
            if (result.data.next_cursor === null) return;
            cursor = result.data.next_cursor;
          }
        }
        return {
          pages,
          async *[Symbol.asyncIterator]() {
            for await (const result of pages()) yield* result.data.data;
          },
        };
      },
    };
  }
}
