/** Secret keys of the signed-in account: list, create (the secret is shown only in that answer), revoke. */
import { Type } from 'typebox';
import { createSecretKey, revokeSecretKey } from '../../accounts/keys.ts';
import { sandboxKey } from '../../accounts/sandbox.ts';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { decodeCursor, page } from '../pagination.ts';
import { ERRORS, NoContent, NullableTimestamp, Page, PageQuery, Timestamp, iso, isoOrNull } from '../schemas.ts';

const KeyItem = Type.Object({
  id: Type.String(), name: Type.String(), hint: Type.String({ description: 'the last characters of the secret' }),
  createdAt: Timestamp, lastUsedAt: NullableTimestamp, revokedAt: NullableTimestamp,
});

const CreatedKey = Type.Object({
  id: Type.String(), name: Type.String(), secret: Type.String({ description: 'shown only here: the SMTP password and the API bearer token' }), createdAt: Timestamp,
});

export function keyRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store } = deps;

  app.get('/keys', {
    schema: { tags: ['keys'], summary: "The account's secret keys, revoked ones included", querystring: Type.Object(PageQuery), response: { 200: Page(KeyItem), ...ERRORS } },
  }, async (request) => {
    const { accountId } = principalOf(request);
    const limit = request.query.limit ?? 50;
    const after = decodeCursor(request.query.cursor);
    let query = store.db.selectFrom('secret_keys').select(['id', 'name', 'hint', 'created_at', 'last_used_at', 'revoked_at'])
      .where('account_id', '=', accountId).orderBy('id').limit(limit + 1);
    if (after) query = query.where('id', '>', after);
    return page(await query.execute(), limit, (row) => row.id, (row) => ({
      id: row.id, name: row.name, hint: row.hint, createdAt: iso(row.created_at), lastUsedAt: isoOrNull(row.last_used_at), revokedAt: isoOrNull(row.revoked_at),
    }));
  });

  app.post('/keys', {
    schema: {
      tags: ['keys'], summary: 'Create a secret key; its secret is shown only in this answer',
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 100 }),
        sandbox: Type.Optional(Type.Boolean({ description: 'mail sent with this key is recorded and signed but delivered nowhere (status sandboxed)' })),
      }, { additionalProperties: false }),
      response: { 201: CreatedKey, ...ERRORS },
    },
  }, async (request, reply) => {
    const key = await store.db.transaction().execute(async (tx) => {
      const created = await createSecretKey(tx, principalOf(request).accountId, request.body.name);
      if (request.body.sandbox) await sandboxKey(tx, created.id);
      return created;
    });
    return reply.code(201).send({ id: key.id, name: key.name, secret: key.secret, createdAt: iso(key.createdAt) });
  });

  app.delete('/keys/:id', {
    schema: {
      tags: ['keys'], summary: 'Revoke a secret key: it stops working at once', params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
      response: { 204: NoContent, ...ERRORS },
    },
  }, async (request, reply) => {
    const { accountId } = principalOf(request);
    // revokeSecretKey treats another account's key as already done; to the API it does not exist.
    const owned = await store.db.selectFrom('secret_keys').select('id').where('id', '=', request.params.id).where('account_id', '=', accountId).executeTakeFirst();
    if (!owned) throw new ApiError(404, 'unknown_key', `no secret key with the id ${request.params.id}`, 'id');
    await revokeSecretKey(store, request.params.id, accountId);
    return reply.code(204).send(null);
  });
}
