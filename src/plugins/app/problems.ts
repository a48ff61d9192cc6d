import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import {
  ERRORS,
  ProblemError,
  renderProblem,
  retryAfter,
  type ErrorCode,
  type FieldError,
  type ProblemExtras,
} from '../../lib/errors.ts';
import { STORABLE_TEXT_MESSAGE, STORABLE_TEXT_PATTERN } from '../../lib/schemas.ts';

export const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

/**
 * A route's own body checks, the ones a schema cannot express (exact amount, known currency). A route sets it on the
 * request before validation; when the schema rejects the body, the 422 lists these fields too, so a client learns
 * every bad field at once. It must tolerate any body (wrong types are the schema's to report).
 */
export type BodyCheck = (body: unknown) => readonly FieldError[];

declare module 'fastify' {
  interface FastifyRequest {
    bodyCheck: BodyCheck | undefined;
  }
}

export function sendProblem(
  reply: FastifyReply,
  code: ErrorCode,
  detail?: string,
  errors?: readonly FieldError[],
  extras?: ProblemExtras,
): FastifyReply {
  const status = ERRORS[code].status;
  if (status === 401) reply.header('WWW-Authenticate', 'ApiKey');
  // The rate limiter sets its own, with the seconds left in its window.
  const retry = retryAfter(code);
  if (retry !== undefined && !reply.hasHeader('retry-after')) reply.header('Retry-After', retry);
  return reply
    .code(status)
    .type(PROBLEM_TYPE)
    .send(renderProblem(code, detail, errors, extras));
}

interface ValidationIssue {
  keyword?: string;
  schemaPath?: string;
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const asList = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];

/** The validator's message, except where it would quote a pattern nobody can read. */
const messageOf = (issue: ValidationIssue): string =>
  issue.keyword === 'pattern' && issue.params?.pattern === STORABLE_TEXT_PATTERN
    ? STORABLE_TEXT_MESSAGE
    : (issue.message ?? 'is invalid');

/** An issue with an object's key (a propertyNames schema), not with a member of the object. */
const isKeyIssue = (issue: ValidationIssue): boolean => {
  const schemaPath = issue.schemaPath ?? '';
  return schemaPath.endsWith('/propertyNames') && !schemaPath.endsWith('/properties/propertyNames');
};

/** Validator output → one readable entry per offending field (`amount`, `metadata.order`, `query.limit`). */
export function fieldErrors(issues: readonly ValidationIssue[], context: string | undefined): FieldError[] {
  const prefix = context === undefined || context === 'body' ? '' : `${context}.`;
  const join = (path: string, leaf: string): string => {
    const full = [path, leaf].filter((p) => p !== '').join('.');
    return `${prefix}${full}` || (context ?? 'body');
  };
  const out = new Map<string, string>();
  const alternatives = new Map<string, string[]>();
  // A union member of the right type that broke a constraint (too long, not storable text): that is what to report.
  const constraints = new Map<string, string>();
  for (const issue of issues) {
    let instancePath = issue.instancePath ?? '';
    // A bad key names its object, not the key (which may be any text, even what is refused): "metadata".
    if (isKeyIssue(issue)) instancePath = instancePath.slice(0, instancePath.lastIndexOf('/'));
    const path = instancePath.replace(/^\//, '').replaceAll('/', '.');
    if (issue.keyword === 'required') {
      for (const name of asList(issue.params?.requiredProperties ?? issue.params?.missingProperty)) {
        out.set(join(path, name), 'is required');
      }
    } else if (issue.keyword === 'additionalProperties') {
      for (const name of asList(issue.params?.additionalProperties ?? issue.params?.additionalProperty)) {
        out.set(join(path, name), 'is not an accepted field');
      }
    } else if (issue.keyword === 'boolean' || issue.keyword === 'propertyNames') {
      continue; // the additionalProperties entry, or the key's own issue, already names the field
    } else if ((issue.schemaPath ?? '').includes('/anyOf/') && issue.keyword === 'type') {
      const field = join(path, '');
      alternatives.set(field, [...(alternatives.get(field) ?? []), ...asList(issue.params?.type)]);
    } else if (/\/anyOf\/\d+$/.test(issue.schemaPath ?? '') && issue.keyword !== 'const') {
      const field = join(path, '');
      if (!constraints.has(field)) constraints.set(field, messageOf(issue));
    } else if (issue.keyword === 'anyOf') {
      const field = join(path, '');
      const types = `must be ${(alternatives.get(field) ?? ['of another type']).join(' or ')}`;
      out.set(field, constraints.get(field) ?? types);
    } else if (!out.has(join(path, ''))) {
      out.set(join(path, ''), isKeyIssue(issue) ? `keys ${messageOf(issue)}` : messageOf(issue));
    }
  }
  return [...out].map(([field, message]) => ({ field, message }));
}

/** Fastify's own errors mapped onto the closed set of codes. */
function codeForFastifyError(error: FastifyError): ErrorCode | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'payload_too_large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported_media_type' : 'invalid_json';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'invalid_json';
    default:
      return undefined;
  }
}

/** The one error handler: every error becomes RFC 9457 problem+json; 5xx details stay in the log. */
export function registerProblems(app: FastifyInstance): void {
  app.decorateRequest('bodyCheck', undefined);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ProblemError) return sendProblem(reply, error.code, error.detail, error.errors, error.extras);
    if (error.validation !== undefined) {
      const errors = fieldErrors(error.validation, error.validationContext);
      if (error.validationContext === 'body' && request.bodyCheck !== undefined) {
        const listed = new Set(errors.map((e) => e.field));
        errors.push(...request.bodyCheck(request.body).filter((e) => !listed.has(e.field)));
      }
      return sendProblem(reply, 'validation_failed', 'The request is invalid', errors);
    }
    const mapped = codeForFastifyError(error);
    if (mapped !== undefined) return sendProblem(reply, mapped);
    // The client hung up while its body was still arriving (Node's "aborted"): a client fault, not a 500 and not an
    // error-level log line a hostile client could produce at will. Nobody is left to read the answer.
    if (error.code === 'ECONNRESET' && request.raw.destroyed) {
      request.log.info({ event: 'client_aborted' }, 'client closed the connection before the body was complete');
      return sendProblem(reply, 'invalid_json', 'The request body was not received completely');
    }
    if (typeof error.statusCode === 'number' && error.statusCode === 429) return sendProblem(reply, 'rate_limited');
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, 'internal_error');
  });
  app.setNotFoundHandler((_request, reply) => sendProblem(reply, 'not_found'));
}
