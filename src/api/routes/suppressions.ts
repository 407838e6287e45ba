/** The account's suppression list: addresses it will not send to (hard bounces, complaints, added by hand). */
import { Type } from 'typebox';
import { isEmailAddress } from '../../message/address.ts';
import { findSuppression, listSuppressions, removeSuppression, suppress, type Suppression } from '../../suppressions/suppressions.ts';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { ApiError, withFieldNames } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../pagination.ts';
import { ERRORS, NoContent, Page, PageQuery, Timestamp, iso } from '../schemas.ts';

const SuppressionView = Type.Object({
  address: Type.String(), reason: Type.String({ description: 'e.g. hard-bounce, complaint, manual' }), createdAt: Timestamp,
});

const Email = Type.Object({ email: Type.String({ maxLength: 254 }) });

export function suppressionRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store } = deps;

  app.get('/suppressions', {
    schema: { tags: ['suppressions'], summary: 'Suppressed addresses, in address order', querystring: Type.Object(PageQuery), response: { 200: Page(SuppressionView), ...ERRORS } },
  }, async (request) => {
    const result = await listSuppressions(store, principalOf(request).accountId, { limit: request.query.limit ?? 50, after: decodeCursor(request.query.cursor) });
    return { items: result.items.map(view), ...(result.next !== undefined ? { next: encodeCursor(result.next) } : {}) };
  });

  app.get('/suppressions/:email', {
    schema: { tags: ['suppressions'], summary: 'Whether one address is suppressed, and why', params: Email, response: { 200: SuppressionView, ...ERRORS } },
  }, async (request) => {
    const found = await findSuppression(store.db, principalOf(request).accountId, request.params.email);
    if (!found) throw new ApiError(404, 'unknown_suppression', `${request.params.email} is not on the suppression list`, 'email');
    return view(found);
  });

  app.post('/suppressions', {
    schema: {
      tags: ['suppressions'], summary: 'Suppress an address: 201 when added, 200 when it already was',
      body: Type.Object({
        address: Type.String({ maxLength: 254 }),
        reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'default "manual"' })),
      }, { additionalProperties: false }),
      response: { 200: SuppressionView, 201: SuppressionView, ...ERRORS },
    },
  }, async (request, reply) => {
    const { accountId } = principalOf(request);
    if (!isEmailAddress(request.body.address.trim())) throw new ApiError(400, 'invalid_address', `"${request.body.address}" is not an email address`, 'address');
    const existing = await findSuppression(store.db, accountId, request.body.address);
    if (existing) return reply.code(200).send(view(existing));
    await suppress(store.db, accountId, request.body.address, request.body.reason ?? 'manual', null);
    const added = await findSuppression(store.db, accountId, request.body.address);
    return reply.code(201).send(view(added!));
  });

  app.delete('/suppressions/:email', {
    schema: { tags: ['suppressions'], summary: 'Remove a suppression: the address may receive mail again', params: Email, response: { 204: NoContent, ...ERRORS } },
  }, async (request, reply) => {
    await withFieldNames({ address: 'email' }, () => removeSuppression(store, principalOf(request).accountId, request.params.email));
    return reply.code(204).send(null);
  });
}

function view(suppression: Suppression) {
  return { address: suppression.address, reason: suppression.reason, createdAt: iso(suppression.createdAt) };
}
