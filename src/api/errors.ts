/**
 * Every error the API answers, in one shape: `{ error: { code, message, field? } }`
 * with the status that fits. This module is the one place that turns thrown
 * things — our ApiError, a UserError from the domain modules, fastify's own
 * validation and body errors — into that answer; an unexpected error becomes
 * a 500 that leaks no internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { UserError, type UserErrorKind } from '../errors.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, field?: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.headers = headers;
  }
}

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

const STATUS_FOR_KIND: Record<UserErrorKind, number> = { invalid: 400, 'not-found': 404, conflict: 409, forbidden: 403 };

export function fromUserError(error: UserError, renameFields: Record<string, string> = {}): ApiError {
  const field = error.field === undefined ? undefined : (renameFields[error.field] ?? error.field);
  return new ApiError(STATUS_FOR_KIND[error.kind], error.code, error.message, field);
}

/** Runs `body`, answering a UserError whose field names a domain word (e.g. `domain`) with the request's own field name. */
export async function withFieldNames<T>(renameFields: Record<string, string>, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw error instanceof UserError ? fromUserError(error, renameFields) : error;
  }
}

export function installErrorHandling(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const answer = toApiError(error);
    if (answer.status >= 500) {
      logger.error({ err: error, event: 'http.error', method: request.method, url: request.url }, 'request failed');
    }
    return sendError(reply, answer);
  });
}

export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  const body: ErrorBody = { error: { code: error.code, message: error.message, ...(error.field !== undefined ? { field: error.field } : {}) } };
  return reply.code(error.status).headers(error.headers).type('application/json; charset=utf-8').send(body);
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof UserError) return fromUserError(error);
  const e = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (Array.isArray(e?.validation) && e.validation.length > 0) return validationError(e.validation[0], e.validationContext ?? 'body');
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'body_too_large', 'The request body is larger than this endpoint accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported_media_type', 'Send the request body as JSON (Content-Type: application/json)');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(400, 'invalid_json', 'The request body is not valid JSON');
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) return new ApiError(status, 'bad_request', e.message);
  return new ApiError(500, 'internal', 'Mailroom had a problem answering; try again in a moment');
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Ajv's JSON pointer (`/attachments/0/filename`) as the field a user wrote (`attachments[0].filename`). */
function validationError(error: AjvError, context: string): ApiError {
  const segments = error.instancePath.split('/').slice(1).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (error.keyword === 'required') segments.push(String(error.params.missingProperty));
  if (error.keyword === 'additionalProperties') segments.push(String(error.params.additionalProperty));
  const field = segments.reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment), '');
  const where = context === 'querystring' ? 'query parameter ' : context === 'headers' ? 'header ' : context === 'params' ? 'path parameter ' : '';
  const name = field || context;
  const message = error.keyword === 'required' ? `${where}${name} is required`
    : error.keyword === 'additionalProperties' ? `${where}${name} is not a known field`
    // Ajv says "must be equal to one of the allowed values" without naming them; name them.
    : error.keyword === 'enum' && Array.isArray(error.params.allowedValues) ? `${where}${name} must be one of: ${error.params.allowedValues.join(', ')}`
    : `${where}${name} ${error.message ?? 'is invalid'}`;
  return new ApiError(400, 'invalid_request', message, name);
}
