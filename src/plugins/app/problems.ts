import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ERRORS, ProblemError, renderProblem, type ErrorCode, type FieldError } from '../../domain/errors.ts';

export const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

export function sendProblem(
  reply: FastifyReply,
  code: ErrorCode,
  detail?: string,
  errors?: readonly FieldError[],
): FastifyReply {
  const status = ERRORS[code].status;
  if (status === 401) reply.header('WWW-Authenticate', 'ApiKey');
  if (status === 503 || status === 409) reply.header('Retry-After', '1');
  return reply.code(status).type(PROBLEM_TYPE).send(renderProblem(code, detail, errors));
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function fieldOf(issue: ValidationIssue, context: string | undefined): string {
  const path = (issue.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
  const missing = issue.params?.requiredProperties ?? issue.params?.missingProperty;
  const extra = issue.params?.additionalProperties ?? issue.params?.additionalProperty;
  const named = Array.isArray(missing) ? missing.join(',') : Array.isArray(extra) ? extra.join(',') : (missing ?? extra);
  const leaf = typeof named === 'string' ? (path === '' ? named : `${path}.${named}`) : path;
  const prefix = context === 'body' || context === undefined ? '' : `${context}.`;
  return `${prefix}${leaf}` || (context ?? 'body');
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
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ProblemError) return sendProblem(reply, error.code, error.detail, error.errors);
    if (error.validation !== undefined) {
      const errors = (error.validation as ValidationIssue[]).map((issue) => ({
        field: fieldOf(issue, error.validationContext),
        message: issue.message ?? 'is invalid',
      }));
      return sendProblem(reply, 'validation_failed', 'The request is invalid', errors);
    }
    const mapped = codeForFastifyError(error);
    if (mapped !== undefined) return sendProblem(reply, mapped);
    if (typeof error.statusCode === 'number' && error.statusCode === 429) return sendProblem(reply, 'rate_limited');
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, 'internal_error');
  });
  app.setNotFoundHandler((_request, reply) => sendProblem(reply, 'not_found'));
}
