/**
 * Secret keys of the signed-in account: list (with each key's scope, usage
 * and last use), create (the secret is shown only in that answer; a scope may
 * narrow what the key can do), revoke. The key table is accounts/keys.ts's.
 */
import { Type } from 'typebox';
import { accountOwnsKey, createSecretKey, listSecretKeys, revokeSecretKey, type KeySummary } from '../../accounts/keys.ts';
import type { KeyScope } from '../../policy/key-scope.ts';
import { sandboxKey } from '../../accounts/sandbox.ts';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { decodeCursor, page } from '../pagination.ts';
import { ERRORS, NoContent, NullableTimestamp, Page, PageQuery, Timestamp, iso, isoOrNull } from '../schemas.ts';

const Channel = Type.Enum(['full', 'smtp', 'api'], { description: 'full: SMTP and the whole API; smtp: SMTP only; api: sending over the API only (POST /api/v1/messages)' });

const Scope = Type.Object({
  from: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'addresses and whole domains the key may send as; null: any sender of the account' }),
  dailyLimit: Type.Union([Type.Integer(), Type.Null()], { description: "the key's own limit per rolling 24 hours, within the account's; null: the account's only" }),
  channel: Channel,
  ipRanges: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'CIDR ranges the key may be used from; null: anywhere' }),
  expiresAt: NullableTimestamp,
});

const KeyItem = Type.Object({
  id: Type.String(), name: Type.String(), hint: Type.String({ description: 'the last characters of the secret' }),
  createdAt: Timestamp, lastUsedAt: NullableTimestamp,
  lastUsedIp: Type.Union([Type.String(), Type.Null()], { description: 'the client address of that use' }),
  revokedAt: NullableTimestamp,
  sentLast24h: Type.Integer({ description: 'emails sent with this key in the rolling 24 hours' }),
  scope: Scope,
});

const CreatedKey = Type.Object({
  id: Type.String(), name: Type.String(), secret: Type.String({ description: 'shown only here: the SMTP password and the API bearer token' }), createdAt: Timestamp,
  scope: Scope,
});

const CreateKey = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  from: Type.Optional(Type.Array(Type.String({ maxLength: 254 }), { maxItems: 100, description: 'addresses (a@example.com) and whole domains (example.com) of the account' })),
  dailyLimit: Type.Optional(Type.Integer({ description: "at most the account's daily limit" })),
  channel: Type.Optional(Channel),
  ipRanges: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100, description: 'CIDR ranges such as 192.0.2.0/24, or single addresses' })),
  expiresAt: Type.Optional(Type.String({ maxLength: 40, description: 'a date (2027-01-01, start of the day UTC) or date-time after which the key stops working' })),
  sandbox: Type.Optional(Type.Boolean({ description: 'mail sent with this key is recorded and signed but delivered nowhere (status sandboxed)' })),
}, { additionalProperties: false });

export const scopeJson = (scope: KeyScope) => ({
  from: scope.from === null ? null : [...scope.from], dailyLimit: scope.dailyLimit, channel: scope.channel,
  ipRanges: scope.ipRanges === null ? null : [...scope.ipRanges], expiresAt: isoOrNull(scope.expiresAt),
});

const keyJson = (key: KeySummary) => ({
  id: key.id, name: key.name, hint: key.hint, createdAt: iso(key.createdAt), lastUsedAt: isoOrNull(key.lastUsedAt), lastUsedIp: key.lastUsedIp,
  revokedAt: isoOrNull(key.revokedAt), sentLast24h: key.sentLast24h, scope: scopeJson(key.scope),
});

export function keyRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store } = deps;

  app.get('/keys', {
    schema: { tags: ['keys'], summary: "The account's secret keys, revoked ones included", querystring: Type.Object(PageQuery), response: { 200: Page(KeyItem), ...ERRORS } },
  }, async (request) => {
    const { accountId } = principalOf(request);
    const limit = request.query.limit ?? 50;
    const keys = await listSecretKeys(store, accountId, { limit: limit + 1, after: decodeCursor(request.query.cursor) ?? null });
    return page(keys, limit, (key) => key.id, keyJson);
  });

  app.post('/keys', {
    schema: {
      tags: ['keys'], summary: 'Create a secret key, optionally limited in scope or sandboxed; its secret is shown only in this answer',
      body: CreateKey,
      response: { 201: CreatedKey, ...ERRORS },
    },
  }, async (request, reply) => {
    const { name, sandbox, ...scope } = request.body;
    const key = await createSecretKey(store.db, principalOf(request).accountId, name, scope);
    if (sandbox) await sandboxKey(store.db, key.id);
    return reply.code(201).send({ id: key.id, name: key.name, secret: key.secret, createdAt: iso(key.createdAt), scope: scopeJson(key.scope) });
  });

  app.delete('/keys/:id', {
    schema: {
      tags: ['keys'], summary: 'Revoke a secret key: it stops working at once', params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
      response: { 204: NoContent, ...ERRORS },
    },
  }, async (request, reply) => {
    const { accountId } = principalOf(request);
    // revokeSecretKey treats another account's key as already done; to the API it does not exist.
    if (!(await accountOwnsKey(store, accountId, request.params.id))) throw new ApiError(404, 'unknown_key', `no secret key with the id ${request.params.id}`, 'id');
    await revokeSecretKey(store, request.params.id, accountId);
    return reply.code(204).send(null);
  });
}
