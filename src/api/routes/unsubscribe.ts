/**
 * The one-click unsubscribe endpoint (RFC 8058), public: the link itself is
 * the credential (unsubscribe-link.ts). A POST — what Gmail and Yahoo send,
 * body `List-Unsubscribe=One-Click` — suppresses the address for the account
 * with the reason `unsubscribe` and records an `unsubscribed` event. A GET
 * (a person following the link) only shows a button that POSTs: link
 * scanners fetch URLs in mail, and must not unsubscribe anyone by doing so.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';
import { ApiError, sendError } from '../errors.ts';
import { readUnsubscribeToken, unsubscribeSecret } from '../../suppressions/unsubscribe-link.ts';
import { findSuppression, suppress } from '../../suppressions/suppressions.ts';
import { recordEvents } from '../../queue/message-events.ts';

export const UNSUBSCRIBE_REASON = 'unsubscribe';

export async function unsubscribeRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const { store } = deps;
  // RFC 8058 bodies are form-encoded (or multipart); the token in the path is all we need, so the body is read as text.
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'], { parseAs: 'string', bodyLimit: 4096 }, (_request, body, done) => done(null, body));

  const target = async (token: string) => readUnsubscribeToken(await unsubscribeSecret(store), token);

  app.post<{ Params: { token: string } }>('/unsubscribe/:token', async (request, reply) => {
    const found = await target(request.params.token);
    if (!found) return sendError(reply, new ApiError(404, 'unknown_link', 'This unsubscribe link is not valid'));
    await store.db.transaction().execute(async (tx) => {
      if (await findSuppression(tx, found.accountId, found.address)) return;
      await suppress(tx, found.accountId, found.address, UNSUBSCRIBE_REASON, null);
      const message = await tx.selectFrom('messages').select('id').where('id', '=', found.messageId).executeTakeFirst();
      // The event belongs to the message; if retention has removed it, the suppression alone stands.
      if (message) {
        await recordEvents(tx, [{ accountId: found.accountId, messageId: found.messageId, deliveryId: null, recipient: found.address, type: 'unsubscribed', reply: 'one-click unsubscribe', at: Date.now() }]);
      }
    });
    deps.logger.info({ event: 'unsubscribe', messageId: found.messageId }, 'recipient unsubscribed');
    return reply.code(200).type('text/plain; charset=utf-8').send('You are unsubscribed.\n');
  });

  app.get<{ Params: { token: string } }>('/unsubscribe/:token', async (request, reply) => {
    const found = await target(request.params.token);
    if (!found) return sendError(reply, new ApiError(404, 'unknown_link', 'This unsubscribe link is not valid'));
    const page = `<!doctype html><meta charset="utf-8"><title>Unsubscribe</title>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<p>Stop mail to ${escapeHtml(found.address)} from this sender?</p><button type="submit">Unsubscribe</button></form>`;
    return reply.code(200).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
