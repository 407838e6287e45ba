/** Account management for administrators (the dashboard's Accounts page). */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { createAccount, findAccountById, listAccounts, setDailyLimit, setPassword } from '../../accounts/accounts.ts';
import { readUsage } from '../../queue/usage.ts';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf, requireAdmin } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { decodeCursor, page } from '../pagination.ts';
import { ERRORS, Page, PageQuery, Timestamp, iso } from '../schemas.ts';
import { StorageUse } from './account.ts';
import { readStoredBytes } from '../../queue/stored-bytes.ts';

const AdminAccount = Type.Object({
  id: Type.String(), email: Type.String(), dailyLimit: Type.Integer(), isAdmin: Type.Boolean(), createdAt: Timestamp, sentLast24h: Type.Integer(),
  storage: StorageUse,
});

/** The same shape as `mailroom accounts create --json`. */
const CreatedAccount = Type.Object({
  account: Type.Object({ id: Type.String(), email: Type.String(), dailyLimit: Type.Integer() }),
  key: Type.Object({ id: Type.String(), name: Type.String(), secret: Type.String({ description: 'shown only here' }) }),
  password: Type.Optional(Type.String({ description: 'the generated dashboard password, when none was given; shown only here' })),
});

// Checked before the body is read or validated: a non-admin learns nothing about what a valid request looks like.
const adminOnly = async (request: FastifyRequest) => {
  requireAdmin(request);
};

const AccountId = Type.Object({ id: Type.String({ maxLength: 100 }) });

export function adminRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store, config } = deps;

  app.get('/admin/accounts', {
    onRequest: adminOnly,
    schema: { tags: ['admin'], summary: 'Every account (administrators only)', querystring: Type.Object(PageQuery), response: { 200: Page(AdminAccount), ...ERRORS } },
  }, async (request) => {
    const limit = request.query.limit ?? 50;
    const after = decodeCursor(request.query.cursor);
    const accounts = await listAccounts(store, { limit: limit + 1, after });
    const shown = accounts.slice(0, limit);
    const now = Date.now();
    const used = new Map(await Promise.all(shown.map(async (account) => [account.id, (await readUsage(store.db, account.id, now)).used] as const)));
    const stored = await readStoredBytes(store.db, shown.map((account) => account.id));
    return page(accounts, limit, (account) => account.email, (account) => ({
      id: account.id, email: account.email, dailyLimit: account.dailyLimit, isAdmin: account.isAdmin, createdAt: iso(account.createdAt), sentLast24h: used.get(account.id) ?? 0,
      storage: { usedBytes: stored.get(account.id) ?? 0, budgetBytes: config.storageBudget },
    }));
  });

  app.post('/admin/accounts', {
    onRequest: adminOnly,
    schema: {
      tags: ['admin'], summary: 'Create an account and its first secret key (administrators only)',
      body: Type.Object({
        email: Type.String({ maxLength: 254 }),
        dailyLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'default MAILROOM_DEFAULT_DAILY_LIMIT' })),
        password: Type.Optional(Type.String({ minLength: 8, maxLength: 1000, description: 'dashboard password; generated and returned when omitted' })),
      }, { additionalProperties: false }),
      response: { 201: CreatedAccount, ...ERRORS },
    },
  }, async (request, reply) => {
    const { email, dailyLimit, password } = request.body;
    const created = await createAccount(store, { email, password, dailyLimit: dailyLimit ?? config.defaultDailyLimit, sandbox: config.newAccountsSandboxed });
    return reply.code(201).send({
      account: { id: created.account.id, email: created.account.email, dailyLimit: created.account.dailyLimit },
      key: { id: created.key.id, name: created.key.name, secret: created.key.secret },
      ...(password === undefined ? { password: created.password } : {}),
    });
  });

  app.patch('/admin/accounts/:id', {
    onRequest: adminOnly,
    schema: {
      tags: ['admin'], summary: "Change an account's daily limit (administrators only)", params: AccountId,
      body: Type.Object({ dailyLimit: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
      response: { 200: AdminAccount, ...ERRORS },
    },
  }, async (request) => {
    const account = await findAccountById(store, request.params.id);
    if (!account) throw new ApiError(404, 'unknown_account', `no account with the id ${request.params.id}`, 'id');
    await setDailyLimit(store, account.id, request.body.dailyLimit);
    const usage = await readUsage(store.db, account.id, Date.now());
    const stored = await readStoredBytes(store.db, [account.id]);
    return {
      id: account.id, email: account.email, dailyLimit: request.body.dailyLimit, isAdmin: account.isAdmin, createdAt: iso(account.createdAt), sentLast24h: usage.used,
      storage: { usedBytes: stored.get(account.id) ?? 0, budgetBytes: config.storageBudget },
    };
  });

  // The login page's "ask your administrator" made real; `mailroom accounts set-password` does the same.
  app.post('/admin/accounts/:id/password', {
    onRequest: adminOnly,
    schema: {
      tags: ['admin'], summary: "Reset an account's dashboard password; its dashboard sessions end (administrators only)", params: AccountId,
      body: Type.Object({
        password: Type.Optional(Type.String({ minLength: 8, maxLength: 1000, description: 'the new password; generated and returned when omitted' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          account: Type.Object({ id: Type.String(), email: Type.String() }),
          password: Type.Optional(Type.String({ description: 'the generated password, when none was given; shown only here' })),
        }),
        ...ERRORS,
      },
    },
  }, async (request) => {
    const account = await findAccountById(store, request.params.id);
    if (!account) throw new ApiError(404, 'unknown_account', `no account with the id ${request.params.id}`, 'id');
    const given = request.body.password;
    const { password } = await setPassword(store, account.email, given);
    deps.logger.info({ event: 'account.password_reset', account: account.email, by: principalOf(request).email }, `dashboard password of ${account.email} reset by an administrator`);
    return { account: { id: account.id, email: account.email }, ...(given === undefined ? { password } : {}) };
  });
}
