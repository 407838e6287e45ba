/**
 * "Receive here" (domains/receive-here.ts): the account's addresses whose mail
 * the mx listener catches, with the MX record each needs, and the mail caught
 * for them (events/caught-mail.ts) — the confirmation code and link found,
 * the text, deleting, forwarding (forward-caught.ts).
 */
import { Type } from 'typebox';
import { disableReceiveHere, enableReceiveHere, listReceiveAddresses, mxRecordFor, type ReceiveAddress } from '../../domains/receive-here.ts';
import { deleteCaught, getCaught, listCaught, markForwarded, type CaughtSummary } from '../../events/caught-mail.ts';
import { logAccepted } from '../../events/accepted-log.ts';
import { isEmailAddress } from '../../message/address.ts';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { forwardCaught } from '../forward-caught.ts';
import { ERRORS, NoContent, Timestamp, iso } from '../schemas.ts';

const MxRecord = Type.Object({
  type: Type.Literal('MX'), name: Type.String({ description: "the address's domain" }), value: Type.String({ description: 'this server (MAILROOM_HOSTNAME)' }),
  priority: Type.Integer(),
  warning: Type.Optional(Type.String({ description: 'set when the record cannot work yet (MAILROOM_HOSTNAME is not a fully qualified name), with the fix' })),
}, { description: "publish this record so the domain's mail comes to Mailroom; the domain's other mail then comes here too, and is refused" });

const ReceiveAddressView = Type.Object({ address: Type.String(), mx: MxRecord, createdAt: Timestamp });

const Forwarded = Type.Union([Type.Object({ to: Type.String(), messageId: Type.String(), at: Timestamp }), Type.Null()]);

const CaughtSummaryView = Type.Object({
  id: Type.String(), recipient: Type.String({ description: 'the receive-here address it was caught for' }),
  mailFrom: Type.String({ description: 'the envelope sender' }), from: Type.String({ description: 'the header From address' }), subject: Type.String(),
  code: Type.Union([Type.String(), Type.Null()], { description: 'the confirmation code found in it, e.g. Gmail\'s "Confirmation code: 123456789"' }),
  link: Type.Union([Type.String(), Type.Null()], { description: 'the confirmation link found in it (https)' }),
  size: Type.Integer(), receivedAt: Timestamp, expiresAt: Timestamp, forwarded: Forwarded,
});

const CaughtDetailView = Type.Object({ ...CaughtSummaryView.properties, text: Type.String({ description: 'the text of the message (its HTML as text when it has no plain part)' }) });

const AddressParam = Type.Object({ address: Type.String({ maxLength: 254 }) });
const IdParam = Type.Object({ id: Type.String({ maxLength: 100 }) });

const summaryJson = (m: CaughtSummary) => ({
  id: m.id, recipient: m.recipient, mailFrom: m.mailFrom, from: m.headerFrom, subject: m.subject, code: m.code, link: m.link, size: m.size,
  receivedAt: iso(m.receivedAt), expiresAt: iso(m.expiresAt), forwarded: m.forwarded ? { to: m.forwarded.to, messageId: m.forwarded.messageId, at: iso(m.forwarded.at) } : null,
});

export function receiveHereRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store, config } = deps;
  const addressJson = (a: ReceiveAddress) => ({ address: a.address, mx: mxRecordFor(a.address, config.hostname), createdAt: iso(a.createdAt) });

  app.get('/receive-here', {
    schema: {
      tags: ['receive here'], summary: 'Addresses whose mail Mailroom catches for you (e.g. Gmail\'s confirmation), with the MX record each needs',
      response: { 200: Type.Object({ items: Type.Array(ReceiveAddressView), retentionSeconds: Type.Integer({ description: 'how long caught mail is kept (MAILROOM_CAUGHT_MAIL_RETENTION)' }), mxListening: Type.Boolean({ description: 'whether an mx listener is configured (MAILROOM_MX_PORT)' }) }), ...ERRORS },
    },
  }, async (request) => ({
    items: (await listReceiveAddresses(store, principalOf(request).accountId)).map(addressJson),
    retentionSeconds: Math.round(config.caughtMailRetention / 1000),
    mxListening: config.roles.includes('mx') && config.mxPort !== null,
  }));

  app.post('/receive-here', {
    schema: {
      tags: ['receive here'], summary: 'Turn "receive here" on for an address on a verified domain of the account (or a subdomain of one)',
      body: Type.Object({ address: Type.String({ minLength: 1, maxLength: 254 }) }, { additionalProperties: false }),
      response: { 201: ReceiveAddressView, ...ERRORS },
    },
  }, async (request, reply) => reply.code(201).send(addressJson(await enableReceiveHere(store, principalOf(request).accountId, request.body.address))));

  app.delete('/receive-here/:address', {
    schema: { tags: ['receive here'], summary: 'Turn "receive here" off: its mail is refused from now on (what was caught stays until it expires)', params: AddressParam, response: { 204: NoContent, ...ERRORS } },
  }, async (request, reply) => {
    await disableReceiveHere(store, principalOf(request).accountId, request.params.address);
    return reply.code(204).send(null);
  });

  app.get('/caught-messages', {
    schema: { tags: ['receive here'], summary: 'Mail caught for your receive-here addresses, newest first (at most 100; each is kept for a short time)', response: { 200: Type.Object({ items: Type.Array(CaughtSummaryView) }), ...ERRORS } },
  }, async (request) => ({ items: (await listCaught(store, principalOf(request).accountId)).map(summaryJson) }));

  app.get('/caught-messages/:id', {
    schema: { tags: ['receive here'], summary: 'One caught message with its text', params: IdParam, response: { 200: CaughtDetailView, ...ERRORS } },
  }, async (request) => {
    const caught = await getCaught(store, principalOf(request).accountId, request.params.id);
    return { ...summaryJson(caught), text: caught.text };
  });

  app.delete('/caught-messages/:id', {
    schema: { tags: ['receive here'], summary: 'Delete a caught message now', params: IdParam, response: { 204: NoContent, ...ERRORS } },
  }, async (request, reply) => {
    await deleteCaught(store, principalOf(request).accountId, request.params.id);
    return reply.code(204).send(null);
  });

  app.post('/caught-messages/:id/forward', {
    schema: {
      tags: ['receive here'],
      summary: 'Forward a caught message: a new message "Fwd: …" from the address it was caught for, with the code, link and text, and the original attached (message/rfc822)',
      params: IdParam,
      body: Type.Object({ to: Type.String({ minLength: 1, maxLength: 254 }) }, { additionalProperties: false }),
      response: { 202: Type.Object({ id: Type.String({ description: 'the queued message (GET /api/v1/messages/:id)' }), to: Type.String() }), ...ERRORS },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const to = request.body.to.trim();
    if (!isEmailAddress(to)) throw new ApiError(400, 'invalid_address', `to: "${request.body.to}" is not an email address`, 'to');
    const caught = await getCaught(store, principal.accountId, request.params.id);
    const sent = await forwardCaught(deps, principal, caught, to, request.ip);
    await markForwarded(store, caught.id, { to, messageId: sent.id, at: Date.now() });
    logAccepted(deps.logger, { messageId: sent.id, account: principal.email, source: 'api', recipients: 1, size: sent.size, clientIp: request.ip });
    return reply.code(202).send({ id: sent.id, to });
  });
}
