/**
 * POST /api/v1/messages/batch: one call, many recipients, each sent as a
 * message of its own (one id each) with its own variables. Every recipient
 * goes through the same checklist as a single send (submit-message.ts), and
 * the Enqueuer's group commit puts them into a few transactions; the answer
 * comes only once every accepted message is durable. A recipient that fails
 * (a missing variable, a suppressed address, the daily limit) is reported in
 * its place and the others still go; when none can go, the answer is the
 * 400 of the first, naming the field, and nothing was queued.
 */
import { Type } from 'typebox';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { submitMessage } from '../submit-message.ts';
import { ApiError, fromUserError } from '../errors.ts';
import { UserError } from '../../errors.ts';
import { ERRORS } from '../schemas.ts';
import { TEMPLATE_NAME_PATTERN } from '../../templates/templates.ts';

/** Recipients per call: enough for a newsletter slice, small enough to answer within a client's timeout. */
export const MAX_BATCH_RECIPIENTS = 1000;

const Address = Type.String({ maxLength: 1000 });

const BatchRecipient = Type.Object({
  to: Address,
  variables: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
}, { additionalProperties: false });

const SendBatch = Type.Object({
  from: Type.String({ maxLength: 1000 }),
  replyTo: Type.Optional(Type.Union([Address, Type.Array(Address, { maxItems: 50 })])),
  template: Type.Optional(Type.String({ pattern: TEMPLATE_NAME_PATTERN, description: 'a stored template, rendered per recipient with its variables' })),
  subject: Type.Optional(Type.String({ maxLength: 998 })),
  text: Type.Optional(Type.String()),
  html: Type.Optional(Type.String()),
  headers: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 2000 }))),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\x00-\\x1f\\x7f]+$' }), { maxItems: 10 })),
  track: Type.Optional(Type.Object({ opens: Type.Optional(Type.Boolean()), clicks: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
  unsubscribe: Type.Optional(Type.Boolean({ description: 'one-click unsubscribe headers in every message, each naming its recipient' })),
  sendAt: Type.Optional(Type.String({ maxLength: 40, description: 'schedule every message of the batch for this time (ISO 8601)' })),
  recipients: Type.Array(BatchRecipient, { minItems: 1, maxItems: MAX_BATCH_RECIPIENTS, description: `one message per entry, at most ${MAX_BATCH_RECIPIENTS}` }),
}, { additionalProperties: false });

const BatchItem = Type.Object({
  to: Type.String(),
  id: Type.Optional(Type.String({ description: 'the queue id, when accepted' })),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) })),
});

export function batchRoutes(app: ApiApp, deps: HttpDeps): void {
  app.post('/messages/batch', {
    bodyLimit: 16 * 1024 * 1024,
    schema: {
      tags: ['messages'], summary: `Send one message per recipient (at most ${MAX_BATCH_RECIPIENTS}); 202 once every accepted one is durable`,
      headers: Type.Object({
        'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'a retried batch with the same key answers the same ids and sends nothing again' })),
      }),
      body: SendBatch,
      response: {
        202: Type.Object({ accepted: Type.Integer(), failed: Type.Integer(), items: Type.Array(BatchItem, { description: 'in the order of recipients' }) }),
        ...ERRORS,
      },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const { recipients, ...shared } = request.body;
    const key = request.headers['idempotency-key'];
    // Submitted together, so the Enqueuer's group commit writes them in a few transactions rather than one each.
    const results = await Promise.all(recipients.map(async (recipient, index) => {
      try {
        const sent = await submitMessage(deps, principal, { ...shared, to: recipient.to, ...(recipient.variables !== undefined ? { variables: recipient.variables } : {}) }, {
          idempotencyKey: key ? `${key}#${index}` : null, clientIp: request.ip,
        });
        return { to: recipient.to, id: sent.id };
      } catch (error) {
        return { to: recipient.to, error: inRecipient(asApiError(error), index) };
      }
    }));
    const failures = results.filter((r) => 'error' in r);
    if (failures.length === results.length) {
      const first = failures[0].error!;
      throw first;
    }
    deps.logger.info({ event: 'batch.accepted', account: principal.email, accepted: results.length - failures.length, failed: failures.length, source: 'api' }, 'batch queued');
    return reply.code(202).send({
      accepted: results.length - failures.length, failed: failures.length,
      items: results.map((r) => ('error' in r ? { to: r.to, error: { code: r.error!.code, message: r.error!.message, ...(r.error!.field ? { field: r.error!.field } : {}) } } : r)),
    });
  });
}

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof UserError) return fromUserError(error);
  throw error;
}

/** A single send's field (`to`, `variables.name`) as the batch's (`recipients[3].to`); shared fields keep their names. */
function inRecipient(error: ApiError, index: number): ApiError {
  const field = error.field;
  const own = field !== undefined && (field === 'to' || field.startsWith('to[') || field.startsWith('variables'));
  return own ? new ApiError(error.status, error.code, error.message, `recipients[${index}].${field}`, error.headers) : error;
}
