import { Type } from 'typebox';
import { ResponseObject } from '../lib/schemas.ts';
import { EVENT_TYPE_LIST_PATTERN, EVENT_TYPES } from './types.ts';

/** GET /events: the largest page, and the page when `limit` is not given. */
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

export const EventsQuery = Type.Object(
  {
    after: Type.Optional(
      Type.String({
        pattern: '^(0|[1-9][0-9]{0,17})$',
        description: 'Events after this id (exclusive): 0 or absent from the oldest retained; next_after of a page',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE })),
    type: Type.Optional(
      Type.String({
        pattern: EVENT_TYPE_LIST_PATTERN,
        maxLength: 400,
        description: `One event type or several separated by commas: ${EVENT_TYPES.join(', ')}`,
      }),
    ),
  },
  { additionalProperties: false },
);

export const Event = ResponseObject({
  id: Type.Integer({
    description: 'The position in the feed: strictly increasing, in the order events became visible',
  }),
  type: Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))),
  created_at: Type.String({ description: 'When the movement committed (its transaction time), RFC 3339 UTC' }),
  client: Type.Union([Type.String(), Type.Null()], { description: 'The API client whose request caused it' }),
  data: Type.Object(
    {},
    {
      // What the data objects hold: scalars, id lists (a charge's refunds) and string maps (metadata).
      additionalProperties: Type.Union([
        Type.String(),
        Type.Number(),
        Type.Boolean(),
        Type.Null(),
        Type.Array(Type.Integer()),
        Type.Object({}, { additionalProperties: Type.String() }),
      ]),
      description:
        'The object the API returned: the transaction (charge, refund, credit), the authorization (authorization.*), ' +
        'or for charge.declined {code, status, user_id, currency, amount_minor, idempotency_key, created_at}',
    },
  ),
});

export const EventPage = ResponseObject({
  data: Type.Array(Event),
  has_more: Type.Boolean({ description: 'More events follow: ask again at once with after=next_after' }),
  next_after: Type.Integer({
    description: 'The id of the last event of this page (or the given after when the page is empty): the next after',
  }),
});
