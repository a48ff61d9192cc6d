import { Type } from 'typebox';
import { Description, ResponseObject } from '../lib/schemas.ts';

const EVENT_TYPE = '^([a-z_]{1,40}\\.[a-z_]{1,40}|\\*)$';
const Id = Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'next_cursor of the previous page' });
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 }));
const Instant = Type.String({ format: 'date-time' });

export const CreateEndpointBody = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'http or https, no credentials; must resolve to public addresses unless WEBHOOK_URL_ALLOWLIST',
    }),
    event_types: Type.Array(Type.String({ pattern: EVENT_TYPE }), {
      minItems: 1,
      maxItems: 50,
      uniqueItems: true,
      description: 'Event types to receive, e.g. charge.succeeded, refund.succeeded; "*" for all',
    }),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);

const endpointFields = {
  id: Type.Integer(),
  url: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  event_types: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  disabled_at: Type.Union([Instant, Type.Null()]),
  disabled_reason: Type.Union([Type.String(), Type.Null()]),
  created_by: Type.String({ description: 'The API client that created it' }),
  created_at: Instant,
  delivered_seq: Type.Integer({ description: 'The last event seq the endpoint is done with (delivered or skipped)' }),
  failing_since: Type.Union([Instant, Type.Null()], {
    description: 'Since when the next event has been failing; null when not failing',
  }),
  failures: Type.Integer({ description: 'Failed attempts of the next event' }),
  next_attempt_at: Instant,
};

export const Endpoint = ResponseObject(endpointFields, { description: 'A webhook endpoint (its secret is not shown)' });

export const CreatedEndpoint = ResponseObject(
  {
    ...endpointFields,
    secret: Type.String({ description: 'whsec_… signing secret (Standard Webhooks); shown only in this response' }),
  },
  { description: 'The endpoint, with its signing secret: the only time it is shown' },
);

export const EndpointPage = ResponseObject({
  data: Type.Array(Endpoint),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

export const Attempt = ResponseObject({
  id: Type.Integer(),
  event_seq: Type.Integer(),
  webhook_id: Type.String(),
  attempt: Type.Integer({ description: 'The attempt number for this event (1: first try)' }),
  status: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status answered; null: no answer' }),
  error: Type.Union([Type.String(), Type.Null()], { description: 'Why there was no answer (timeout, refused, …)' }),
  delivered: Type.Boolean(),
  duration_ms: Type.Integer(),
  attempted_at: Instant,
});

export const AttemptPage = ResponseObject({
  data: Type.Array(Attempt),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

export const PageQuery = Type.Object({ limit: Limit, cursor: Type.Optional(Id) }, { additionalProperties: false });
