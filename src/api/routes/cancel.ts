/**
 * Cancelling a scheduled message before its send time: DELETE
 * /api/v1/messages/:id or POST /api/v1/messages/:id/cancel (for clients
 * that cannot send DELETE). Recipients still `scheduled` become `cancelled`;
 * once the time has come the message is on its way and this is a 409.
 */
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { ERRORS } from '../schemas.ts';
import { cancelScheduled } from '../../queue/schedule.ts';

const Cancelled = Type.Object({
  id: Type.String(),
  cancelled: Type.Array(Type.String(), { description: 'the recipients whose scheduled delivery was cancelled' }),
});

const MessageId = Type.Object({ id: Type.String({ maxLength: 100 }) });

export function cancelRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store } = deps;

  const cancel = async (request: FastifyRequest<{ Params: { id: string } }>) => {
    const { accountId } = principalOf(request);
    const id = request.params.id;
    const cancelled = await store.db.transaction().execute((tx) => cancelScheduled(tx, { messageId: id, accountId, now: Date.now() }));
    if (cancelled.length > 0) return { id, cancelled };
    const exists = await store.db.selectFrom('messages').select('id').where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    if (!exists) throw new ApiError(404, 'unknown_message', `no message with the id ${id}`, 'id');
    throw new ApiError(409, 'not_scheduled', `message ${id} has no recipient still waiting for its send time: it was never scheduled, is due already, or was cancelled`, 'id');
  };

  app.delete('/messages/:id', {
    schema: { tags: ['messages'], summary: 'Cancel a scheduled message before its send time', params: MessageId, response: { 200: Cancelled, ...ERRORS } },
  }, cancel);

  app.post('/messages/:id/cancel', {
    schema: { tags: ['messages'], summary: 'Cancel a scheduled message before its send time (same as DELETE)', params: MessageId, response: { 200: Cancelled, ...ERRORS } },
  }, cancel);
}
