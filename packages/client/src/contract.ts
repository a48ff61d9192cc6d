// The routes the client calls, each with a runtime description of what it sends and what it expects back. The
// descriptions are type-checked against the hand-written types (Spec<T> demands exactly T's fields, with exactly
// T's JSON types, enum members and optionality), and the drift test checks them against the server's
// /openapi.json. The client's methods take their paths and result types from these routes, so a method cannot
// call a route or return a type the test does not check.
import type {
  Authorization,
  AuthorizeParams,
  CaptureParams,
  VoidParams,
  ChargeCreateParams,
  CreditParams,
  EventPage,
  EventsQuery,
  MoneyResult,
  PicoPayEvent,
  RefundParams,
  Transaction,
  TransactionPage,
  TransactionsQuery,
  User,
  UserCreateParams,
} from './types.ts';

export type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object';

// JSON type(s) of a TS type; 'number' covers JSON integers (flagged separately with `integer`).
type JsonOf<V> = V extends null
  ? 'null'
  : V extends string
    ? 'string'
    : V extends number
      ? 'number'
      : V extends boolean
        ? 'boolean'
        : V extends readonly unknown[]
          ? 'array'
          : 'object';

type Strings<V> = Extract<V, string>;
type Arrays<V> = Extract<V, readonly unknown[]>;
type Objects<V> = Exclude<Extract<V, object>, readonly unknown[]>;
type IsNever<V> = [V] extends [never] ? true : false;

// A closed string union must list every member; a plain string may not claim an enum.
type EnumPart<V> =
  IsNever<Strings<V>> extends true
    ? unknown
    : string extends Strings<V>
      ? unknown
      : { readonly enum: { readonly [L in Strings<V>]: true } };
type IntegerPart<V> = IsNever<Extract<V, number>> extends true ? unknown : { readonly integer?: true };
type ArrayPart<V> = IsNever<Arrays<V>> extends true ? unknown : { readonly items: Spec<Arrays<V>[number]> };
// An object with a string index (Record<string, X>) describes its values; any other object, its fields.
type ObjectPart<V> =
  IsNever<Objects<V>> extends true
    ? unknown
    : string extends keyof Objects<V>
      ? { readonly values: Spec<Objects<V>[string]> }
      : { readonly fields: Shape<Objects<V>> };

/** The description of a value of TS type V. */
export type Spec<V> = { readonly types: { readonly [J in JsonOf<V>]: true } } & EnumPart<V> &
  IntegerPart<V> &
  ArrayPart<V> &
  ObjectPart<V>;

/** The description of every field of T: none missing, none extra, `optional: true` exactly on T's optional ones. */
export type Shape<T> = {
  readonly [K in keyof T]-?: Spec<Exclude<T[K], undefined>> &
    // `{} extends Pick<T, K>` is the standard test for an optional property.
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    ({} extends Pick<T, K> ? { readonly optional: true } : unknown);
};

/** The erased, runtime view of a Spec, for the drift test. */
export interface FieldSpec {
  readonly types: Partial<Record<JsonType, true>>;
  readonly optional?: true;
  readonly integer?: true;
  readonly enum?: Readonly<Record<string, true>>;
  readonly items?: FieldSpec;
  readonly values?: FieldSpec;
  readonly fields?: Readonly<Record<string, FieldSpec>>;
}

export interface RouteContract {
  readonly method: 'GET' | 'POST';
  /** OpenAPI path template; the client fills `{id}`. */
  readonly path: string;
  readonly success: 200 | 201;
  /** Money-moving: sends an Idempotency-Key and is retried on any transient failure. */
  readonly idempotent: boolean;
  readonly body?: Readonly<Record<string, FieldSpec>>;
  readonly query?: Readonly<Record<string, FieldSpec>>;
  readonly response: FieldSpec;
}

/** A RouteContract that also carries (in types only) its body, query and result types. */
export interface Route<B, Q, R> extends RouteContract {
  readonly _types?: { body: B; query: Q; result: R };
}

interface RouteInput<B, Q, R> {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly success: 200 | 201;
  readonly idempotent: boolean;
  readonly body?: Shape<B>;
  readonly query?: Shape<Q>;
  readonly response: Spec<R>;
}

// The casts erase what the compiler has just checked: Spec<T> is a FieldSpec by construction.
const define = <B, Q, R>(route: RouteInput<B, Q, R>): Route<B, Q, R> => route;

const STRING = { types: { string: true } } as const;
const NULLABLE_STRING = { types: { string: true, null: true } } as const;
const NUMBER = { types: { number: true } } as const;
const INTEGER = { types: { number: true }, integer: true } as const;
const AMOUNT = { types: { string: true, number: true } } as const;
const METADATA = { types: { object: true }, values: STRING } as const;

const TRANSACTION = {
  types: { object: true },
  fields: {
    id: INTEGER,
    type: { types: { string: true }, enum: { charge: true, credit: true, refund: true, hold: true, release: true } },
    user_id: INTEGER,
    amount: NUMBER,
    amount_minor: INTEGER,
    signed_amount: NUMBER,
    signed_amount_minor: INTEGER,
    currency: STRING,
    status: { types: { string: true }, enum: { completed: true } },
    idempotency_key: NULLABLE_STRING,
    description: NULLABLE_STRING,
    metadata: { ...METADATA, types: { object: true, null: true } },
    balance_after: NUMBER,
    balance_after_minor: INTEGER,
    created_at: STRING,
    amount_refunded: { ...NUMBER, optional: true },
    amount_refunded_minor: { ...INTEGER, optional: true },
    refunds: { types: { array: true }, items: INTEGER, optional: true },
    charge_id: { ...INTEGER, optional: true },
    authorization_id: { ...INTEGER, optional: true },
  },
} as const satisfies Spec<Transaction>;

const MONEY_RESULT = {
  types: { object: true },
  fields: { message: STRING, transaction: TRANSACTION, new_balance: NUMBER, new_balance_minor: INTEGER },
} as const satisfies Spec<MoneyResult>;

const USER = {
  types: { object: true },
  fields: {
    id: INTEGER,
    name: NULLABLE_STRING,
    balances: { types: { object: true }, values: NUMBER },
    balances_minor: { types: { object: true }, values: INTEGER },
    available_balances: { types: { object: true }, values: NUMBER },
    available_balances_minor: { types: { object: true }, values: INTEGER },
    created_at: STRING,
  },
} as const satisfies Spec<User>;

const AUTHORIZATION = {
  types: { object: true },
  fields: {
    id: INTEGER,
    user_id: INTEGER,
    currency: STRING,
    status: { types: { string: true }, enum: { pending: true, captured: true, voided: true, expired: true } },
    amount: NUMBER,
    amount_minor: INTEGER,
    amount_held: NUMBER,
    amount_held_minor: INTEGER,
    amount_captured: NUMBER,
    amount_captured_minor: INTEGER,
    amount_released: NUMBER,
    amount_released_minor: INTEGER,
    capture_id: { types: { number: true, null: true }, integer: true },
    idempotency_key: STRING,
    description: NULLABLE_STRING,
    metadata: METADATA,
    expires_at: STRING,
    created_at: STRING,
  },
} as const satisfies Spec<Authorization>;

const BOOLEAN = { types: { boolean: true } } as const;
const EVENT_TYPES = {
  'charge.succeeded': true,
  'charge.declined': true,
  'refund.succeeded': true,
  'credit.succeeded': true,
  'authorization.created': true,
  'authorization.captured': true,
  'authorization.voided': true,
  'authorization.expired': true,
} as const;

const EVENT = {
  types: { object: true },
  fields: {
    id: INTEGER,
    type: { types: { string: true }, enum: EVENT_TYPES },
    created_at: STRING,
    client: NULLABLE_STRING,
    data: {
      types: { object: true },
      values: {
        types: { string: true, number: true, boolean: true, null: true, array: true, object: true },
        items: INTEGER,
        fields: {},
      },
    },
  },
} as const satisfies Spec<PicoPayEvent>;

const MONEY_BODY = {
  amount: AMOUNT,
  currency: STRING,
  description: { ...NULLABLE_STRING, optional: true },
  metadata: { ...METADATA, optional: true },
} as const;

export const ROUTES = {
  chargesCreate: define<ChargeCreateParams, undefined, MoneyResult>({
    method: 'POST',
    path: '/charge',
    success: 200,
    idempotent: true,
    body: { user_id: INTEGER, ...MONEY_BODY },
    response: MONEY_RESULT,
  }),
  chargesRetrieve: define<undefined, undefined, Transaction>({
    method: 'GET',
    path: '/charges/{id}',
    success: 200,
    idempotent: false,
    response: TRANSACTION,
  }),
  chargesRefund: define<RefundParams, undefined, MoneyResult>({
    method: 'POST',
    path: '/charges/{id}/refunds',
    success: 200,
    idempotent: true,
    body: { amount: { ...AMOUNT, optional: true }, reason: { ...NULLABLE_STRING, optional: true } },
    response: MONEY_RESULT,
  }),
  usersCreate: define<UserCreateParams, undefined, User>({
    method: 'POST',
    path: '/users',
    success: 201,
    idempotent: false,
    body: {
      name: { ...NULLABLE_STRING, optional: true },
      balances: { types: { object: true }, values: AMOUNT, optional: true },
    },
    response: USER,
  }),
  usersRetrieve: define<undefined, undefined, User>({
    method: 'GET',
    path: '/users/{id}',
    success: 200,
    idempotent: false,
    response: USER,
  }),
  usersCredit: define<CreditParams, undefined, MoneyResult>({
    method: 'POST',
    path: '/users/{id}/credits',
    success: 200,
    idempotent: true,
    body: MONEY_BODY,
    response: MONEY_RESULT,
  }),
  usersTransactions: define<undefined, TransactionsQuery, TransactionPage>({
    method: 'GET',
    path: '/users/{id}/transactions',
    success: 200,
    idempotent: false,
    query: { limit: { ...INTEGER, optional: true }, cursor: { ...STRING, optional: true } },
    response: {
      types: { object: true },
      fields: { data: { types: { array: true }, items: TRANSACTION }, next_cursor: NULLABLE_STRING },
    },
  }),
  authorizationsCreate: define<AuthorizeParams, undefined, Authorization>({
    method: 'POST',
    path: '/authorizations',
    success: 201,
    idempotent: true,
    body: { user_id: INTEGER, ...MONEY_BODY, expires_in_seconds: { ...INTEGER, optional: true } },
    response: AUTHORIZATION,
  }),
  authorizationsRetrieve: define<undefined, undefined, Authorization>({
    method: 'GET',
    path: '/authorizations/{id}',
    success: 200,
    idempotent: false,
    response: AUTHORIZATION,
  }),
  authorizationsCapture: define<CaptureParams, undefined, Authorization>({
    method: 'POST',
    path: '/authorizations/{id}/capture',
    success: 200,
    idempotent: true,
    body: { amount: { ...AMOUNT, optional: true } },
    response: AUTHORIZATION,
  }),
  authorizationsVoid: define<VoidParams, undefined, Authorization>({
    method: 'POST',
    path: '/authorizations/{id}/void',
    success: 200,
    idempotent: true,
    body: {},
    response: AUTHORIZATION,
  }),
  eventsList: define<undefined, EventsQuery, EventPage>({
    method: 'GET',
    path: '/events',
    success: 200,
    idempotent: false,
    query: {
      after: { ...STRING, optional: true },
      limit: { ...INTEGER, optional: true },
      type: { ...STRING, optional: true },
    },
    response: {
      types: { object: true },
      fields: { data: { types: { array: true }, items: EVENT }, has_more: BOOLEAN, next_after: INTEGER },
    },
  }),
} as const;

export type RouteName = keyof typeof ROUTES;
