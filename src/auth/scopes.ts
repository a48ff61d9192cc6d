// What an API key may do: the model of Stripe's restricted keys. A route names the scopes that let a caller in (any
// one of them); an admin key holds them all.

export const SCOPES = [
  'charges:write', // POST /charge
  'refunds:write', // refund the client's own charges
  'refunds:any', // refund any client's charge
  'charges:read', // GET /charges/{id}, /refunds/{id} of the client's own
  'users:read', // GET /users/{id}, /users/{id}/transactions (other clients' entries redacted)
  'read:all', // every client's charges and refunds, entries unredacted
  'users:write', // POST /users
  'credits:write', // POST /users/{id}/credits
  'authorizations:write', // POST /authorizations, capture and void the client's own holds
  'webhooks:manage', // /webhook-endpoints: create, list, read, delete, delivery log (admin keys only by default)
  'authorizations:any', // capture and void any client's hold (a platform acting for its clients)
] as const;

export type Scope = (typeof SCOPES)[number];

/** What `APP_API_KEYS=client:key` grants: charge, refund, read, and hold (authorize, capture, void). */
export const CLIENT_SCOPES: readonly Scope[] = [
  'charges:write',
  'refunds:write',
  'charges:read',
  'users:read',
  'authorizations:write',
];

/** An admin key (`APP_ADMIN_API_KEYS`, or `"scopes": ["admin"]` in a key file). */
export const ADMIN_SCOPES: readonly Scope[] = SCOPES;

export const isScope = (value: unknown): value is Scope => (SCOPES as readonly unknown[]).includes(value);

/**
 * The scopes that let a caller in, per route kind. The wider scope of a pair also grants the narrower access:
 * refunds:any refunds the caller's own charges too, authorizations:any settles the caller's own holds too, read:all
 * reads what charges:read and users:read read.
 */
export const ROUTE_SCOPES = {
  charge: ['charges:write'],
  refund: ['refunds:write', 'refunds:any'],
  readCharges: ['charges:read', 'read:all'],
  readUsers: ['users:read', 'read:all'],
  createUser: ['users:write'],
  credit: ['credits:write'],
  authorize: ['authorizations:write'],
  // GET /events: a client's own events with charges:read (they are its charges, refunds and holds), all with read:all.
  readEvents: ['charges:read', 'read:all'],
  webhooks: ['webhooks:manage'],
  settleHold: ['authorizations:write', 'authorizations:any'],
} as const satisfies Record<string, readonly Scope[]>;
