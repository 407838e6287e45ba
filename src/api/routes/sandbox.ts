/**
 * Sandbox mode over the API: whether the caller's mail is sandboxed, and an
 * administrator putting an account in the sandbox or lifting it (the
 * hosted providers' "trial mode"). Keys are made sandboxed when created
 * (POST /keys with `sandbox: true`).
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { accountSandboxed, setAccountSandbox } from '../../accounts/sandbox.ts';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf, requireAdmin } from '../auth.ts';
import { ERRORS } from '../schemas.ts';

const SandboxState = Type.Object({
  sandbox: Type.Boolean({ description: 'true: mail is accepted, checked, signed and recorded with the status sandboxed, and delivered nowhere' }),
});

export function sandboxRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store } = deps;

  app.get('/sandbox', {
    schema: { tags: ['account'], summary: "Whether this caller's mail is sandboxed (its account or the key it uses)", response: { 200: SandboxState, ...ERRORS } },
  }, async (request) => ({ sandbox: principalOf(request).sandbox }));

  app.put('/admin/accounts/:id/sandbox', {
    onRequest: async (request: FastifyRequest) => { requireAdmin(request); },
    schema: {
      tags: ['admin'], summary: 'Put an account in sandbox mode or lift it (administrators only)',
      params: Type.Object({ id: Type.String({ maxLength: 100 }) }), body: SandboxState, response: { 200: SandboxState, ...ERRORS },
    },
  }, async (request) => {
    await setAccountSandbox(store, request.params.id, request.body.sandbox);
    return { sandbox: await accountSandboxed(store, request.params.id) };
  });
}
