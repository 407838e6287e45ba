/**
 * Sending (POST /messages answers 202 only once the message is durable) and
 * reading the message log: each recipient's status and every attempt with
 * the remote server's reply.
 */
import { Type } from 'typebox';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { SENDS_MAIL, principalOf } from '../auth.ts';
import { submitMessage } from '../submit-message.ts';
import { logAccepted } from '../../events/accepted-log.ts';
import { AccountScopeQuery, accountScope } from '../account-scope.ts';
import { getMessage, listMessages } from '../../events/message-log.ts';
import { DELIVERY_STATUSES } from '../../queue/delivery-status.ts';
import { decodeCursor, encodeCursor } from '../pagination.ts';
import { ERRORS, Page, PageQuery, Timestamp } from '../schemas.ts';
import { TEMPLATE_NAME_PATTERN } from '../../templates/templates.ts';

const Addresses = Type.Union([Type.String({ maxLength: 1000 }), Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 1000 })], {
  description: 'an address ("Ann <ann@example.com>" or "ann@example.com"), or a list of them',
});

const Tag = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\x00-\\x1f\\x7f]+$' });

const SendMessage = Type.Object({
  from: Type.Optional(Type.String({ maxLength: 1000, description: 'on a verified domain of the account; with raw, overrides the envelope sender' })),
  to: Type.Optional(Addresses),
  cc: Type.Optional(Addresses),
  bcc: Type.Optional(Addresses),
  replyTo: Type.Optional(Addresses),
  subject: Type.Optional(Type.String({ maxLength: 998 })),
  text: Type.Optional(Type.String()),
  html: Type.Optional(Type.String()),
  headers: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 2000 }), { description: 'extra header fields, e.g. {"List-Unsubscribe": "<mailto:…>"}' })),
  attachments: Type.Optional(Type.Array(Type.Object({
    filename: Type.String({ minLength: 1, maxLength: 255 }),
    content: Type.String({ description: 'base64' }),
    contentType: Type.Optional(Type.String({ maxLength: 255 })),
  }, { additionalProperties: false }), { maxItems: 100 })),
  tags: Type.Optional(Type.Array(Tag, { maxItems: 10, description: 'for filtering the message log' })),
  raw: Type.Optional(Type.String({ description: 'a whole MIME message, base64; instead of from…attachments' })),
  template: Type.Optional(Type.String({ pattern: TEMPLATE_NAME_PATTERN, description: 'the name of a stored template: its newest version gives subject, text and html' })),
  track: Type.Optional(Type.Object({
    opens: Type.Optional(Type.Boolean()), clicks: Type.Optional(Type.Boolean()),
  }, { additionalProperties: false, description: "open/click tracking for this message, within what its From domain enables (default: the domain's settings)" })),
  unsubscribe: Type.Optional(Type.Boolean({ description: 'add one-click unsubscribe (RFC 8058) headers naming the one recipient; a click suppresses the address with the reason unsubscribe' })),
  sendAt: Type.Optional(Type.String({ maxLength: 40, description: 'schedule the message for this time (ISO 8601, at most MAILROOM_MAX_SCHEDULE_AHEAD ahead); cancellable until then' })),
  variables: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'values for the template\'s variables; a variable it prints but this lacks is a 400 naming it' })),
}, { additionalProperties: false });

const Status = Type.Enum([...DELIVERY_STATUSES]);

const Explanation = Type.Union([Type.Object({
  summary: Type.String({ description: 'what happened, in plain words' }),
  action: Type.Optional(Type.String({ description: 'what to do about it' })),
}), Type.Null()], { description: 'the outcome in plain words (for a recipient: its status, or the last problem when deferred, bounced or expired); null when there is nothing to explain' });

const Attempt = Type.Object({
  at: Timestamp,
  mx: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  tls: Type.Union([Type.Object({
    used: Type.Optional(Type.Boolean()), version: Type.Optional(Type.String()), authorized: Type.Optional(Type.Boolean()),
  }, { additionalProperties: true }), Type.Null()], { description: 'whether and how TLS was used; authorized=false: the certificate could not be verified' }),
  reply: Type.String({ description: "the remote server's reply" }),
  durationMs: Type.Integer(),
  mtaSts: Type.Optional(Type.Object({
    mode: Type.String({ description: 'enforce, testing or none' }),
    policyId: Type.String(),
    failure: Type.Optional(Type.String({ description: 'what failed (enforce: why the mail was deferred; testing: what would have)' })),
  }, { description: "the recipient domain's MTA-STS policy (RFC 8461), when it has one" })),
  explanation: Explanation,
});

const MessageSummary = Type.Object({
  id: Type.String(), account: Type.Union([Type.String(), Type.Null()], { description: 'the sending account\'s email; null for Mailroom\'s own bounce reports' }), from: Type.String(), subject: Type.String(), createdAt: Timestamp, tags: Type.Array(Type.String()),
  recipients: Type.Array(Type.Object({ address: Type.String(), status: Type.String() })),
});

const MessageDetail = Type.Object({
  id: Type.String(), from: Type.String(), subject: Type.String(), createdAt: Timestamp, tags: Type.Array(Type.String()),
  headers: Type.Array(Type.Object({ name: Type.String(), value: Type.String() }), { description: 'the header fields as accepted, before signing' }),
  recipients: Type.Array(Type.Object({
    address: Type.String(),
    status: Type.String({ description: DELIVERY_STATUSES.join(', ') }),
    explanation: Explanation,
    nextAttemptAt: Type.Union([Timestamp, Type.Null()], { description: 'queued or deferred: when the next attempt is due' }),
    expiresAt: Type.Union([Timestamp, Type.Null()], { description: 'queued or deferred: when Mailroom gives up (MAILROOM_MAX_QUEUE_TIME after acceptance)' }),
    lastReply: Type.Union([Type.String(), Type.Null()], { description: 'the last remote reply (also of a site that held the recipient back without an attempt)' }),
    attempts: Type.Array(Attempt),
  })),
  bodyExpiredAt: Type.Optional(Type.String({ format: 'date-time', description: 'present once retention deleted the body (MAILROOM_BODY_RETENTION); the headers remain' })),
  notice: Type.Optional(Type.String({ description: 'present when part of the message expired: says what' })),
  template: Type.Optional(Type.Object({ name: Type.String(), version: Type.Integer() }, { description: 'the stored template version the message was rendered from' })),
});

export function messageRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store, config } = deps;

  app.post('/messages', {
    config: SENDS_MAIL,
    // Base64 makes the body a third bigger than the message; the message's own limit is checked after decoding.
    bodyLimit: Math.ceil((config.maxMessageSize * 4) / 3) + 256 * 1024,
    schema: {
      tags: ['messages'], summary: 'Send a message: 202 once it is durably queued',
      headers: Type.Object({
        'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'a retried POST with the same key answers the first id and sends nothing' })),
      }),
      body: SendMessage,
      response: { 202: Type.Object({ id: Type.String({ description: 'the queue id' }) }), ...ERRORS },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const result = await submitMessage(deps, principal, request.body, {
      idempotencyKey: request.headers['idempotency-key'] ?? null, clientIp: request.ip,
    });
    if (result.duplicate) reply.header('idempotent-replayed', 'true');
    else logAccepted(deps.logger, { messageId: result.id, account: principal.email, source: 'api', recipients: result.recipients, size: result.size, clientIp: request.ip });
    return reply.code(202).send({ id: result.id });
  });

  app.get('/messages', {
    schema: {
      tags: ['messages'], summary: 'The message log, newest first',
      querystring: Type.Object({
        recipient: Type.Optional(Type.String({ maxLength: 254, description: 'messages with this recipient' })),
        status: Type.Optional(Status),
        tag: Type.Optional(Tag),
        from: Type.Optional(Type.String({ maxLength: 254, description: 'messages from this sender address (From header or envelope)' })),
        ...AccountScopeQuery,
        ...PageQuery,
      }),
      response: { 200: Page(MessageSummary), ...ERRORS },
    },
  }, async (request) => {
    const { limit = 50, cursor, account, ...filter } = request.query;
    const accountId = await accountScope(store, request, account);
    const result = await listMessages(store, { ...filter, accountId, limit, cursor: decodeCursor(cursor) });
    return result.next ? { items: result.items, next: encodeCursor(result.next) } : { items: result.items };
  });

  app.get('/messages/:id', {
    schema: {
      tags: ['messages'], summary: "A message: each recipient's status and every delivery attempt",
      params: Type.Object({ id: Type.String({ maxLength: 100 }) }), response: { 200: MessageDetail, ...ERRORS },
    },
  }, async (request) => {
    // An admin reads any account's message (the dashboard's all-accounts log links here).
    const principal = principalOf(request);
    return getMessage(store, request.params.id, principal.isAdmin ? null : principal.accountId, { maxQueueTime: config.maxQueueTime, historyRetentionMs: config.historyRetention });
  });
}
