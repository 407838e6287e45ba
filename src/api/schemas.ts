/**
 * Schemas shared by several routes. Each route declares its own request and
 * response schemas next to its handler; fastify validates requests and
 * serialises responses with them, and @fastify/swagger turns the same
 * objects into /api/v1/openapi.json, so the document cannot drift.
 */
import { Type, type TSchema } from 'typebox';

export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'stable, for programs: e.g. invalid_request, daily_limit_reached' }),
    message: Type.String({ description: 'one sentence for people: what is wrong and what to do' }),
    field: Type.Optional(Type.String({ description: 'the request field at fault, e.g. subject or attachments[0].filename' })),
  }),
});

/** Every error status shares the error shape. */
export const ERRORS = { '4xx': ErrorResponse, '5xx': ErrorResponse } as const;

export const Timestamp = Type.String({ format: 'date-time' });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50, description: 'items per page' })),
  cursor: Type.Optional(Type.String({ maxLength: 500, description: 'the `next` value of the previous page' })),
};

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    next: Type.Optional(Type.String({ description: 'present when there are more items: pass it as `cursor`' })),
  });
}

export const NoContent = Type.Null({ description: 'no content' });

export const iso = (at: number) => new Date(at).toISOString();
export const isoOrNull = (at: number | null) => (at === null ? null : new Date(at).toISOString());
