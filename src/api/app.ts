/**
 * The HTTP application: error handling, the OpenAPI generator, then the
 * routes — operations (public), sign-in (public), everything else behind
 * authentication — and the dashboard's pages.
 */
import Fastify from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { registerDashboard } from '../web/routes.ts';
import type { ApiApp, HttpDeps } from './deps.ts';
import { authenticate, principalOf } from './auth.ts';
import { ApiError, installErrorHandling, sendError } from './errors.ts';
import { operationsRoutes } from './routes/operations.ts';
import { sessionRoutes } from './routes/session.ts';
import { accountRoutes } from './routes/account.ts';
import { keyRoutes } from './routes/keys.ts';
import { deviceRoutes } from './routes/devices.ts';
import { adminRoutes } from './routes/admin.ts';
import { domainRoutes } from './routes/domains.ts';
import { dmarcRoutes } from './routes/dmarc.ts';
import { messageRoutes } from './routes/messages.ts';
import { suppressionRoutes } from './routes/suppressions.ts';
import { statsRoutes } from './routes/stats.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { overviewRoutes } from './routes/overview.ts';
import { destinationRoutes } from './routes/destinations.ts';
import { templateRoutes } from './routes/templates.ts';
import { sandboxRoutes } from './routes/sandbox.ts';
import { batchRoutes } from './routes/batch.ts';
import { cancelRoutes } from './routes/cancel.ts';
import { unsubscribeRoutes } from './routes/unsubscribe.ts';
import { trackingEndpoints, trackingSettingsRoutes } from './routes/tracking.ts';
import { reportRoutes } from './routes/reports.ts';
import { receiveHereRoutes } from './routes/receive-here.ts';
import { acmeChallengeRoute } from '../tls/acme-challenge-route.ts';
import { doctorRoutes } from './routes/doctor.ts';

/** Where the browsable API reference is served (linked from the dashboard and the README). */
export const API_REFERENCE_PATH = '/api/docs';

const isDocumented = (url: string) => url.startsWith('/api/') || url === '/healthz' || url === '/metrics';

export async function buildHttpApp(deps: HttpDeps): Promise<ApiApp> {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    // An unsubscribe link carries its recipient's address in the path (routes/unsubscribe.ts); 100, the default, is too short.
    routerOptions: { maxParamLength: 1000 },
    // Unknown fields are refused rather than dropped, so a typo such as "body" for "text" is a 400, not a silent empty message.
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandling(app, deps.logger);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Mailroom API', version: '1', description: 'Send mail, manage sending domains, read delivery status, receive webhooks.' },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'a secret key of the account' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'mailroom_session', description: 'the dashboard session (POST /api/v1/session)' },
        },
      },
      security: [{ bearerAuth: [] }, { sessionCookie: [] }],
    },
    // The dashboard's pages share the server but are not API.
    transform: ({ schema, url }) => ({ schema: isDocumented(url) ? schema : { ...schema, hide: true }, url }),
  });

  // The API reference as a page (Swagger UI). Every file it needs comes from the package itself,
  // so it works on a server without internet access; the spec validator (an outside service) is off.
  await app.register(swaggerUi, {
    routePrefix: API_REFERENCE_PATH,
    // BaseLayout: no top bar with a URL field for loading other people's specs, just this API.
    uiConfig: { layout: 'BaseLayout', deepLinking: true, docExpansion: 'list', defaultModelsExpandDepth: 0, persistAuthorization: false, tryItOutEnabled: false },
    theme: { title: 'Mailroom API reference' },
    // Our own policy rather than the plugin's default, which allows styles and fonts from any https
    // origin and upgrades requests to https (breaking a plain-http LAN install): this page may load
    // from this server only, so the browser itself enforces "no internet needed".
    staticCSP: "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self' data:; frame-ancestors 'self'; img-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'; form-action 'self'",
  });

  operationsRoutes(app, deps);
  // Public: the signed link is the credential. Hidden from the OpenAPI document (not API: recipients' mail clients call it).
  await app.register(async (scope) => unsubscribeRoutes(scope, deps));
  await app.register(async (scope) => trackingEndpoints(scope, deps));
  // ACME HTTP-01 answers, from the store, so any HTTP node can answer for an order another node placed.
  await app.register(acmeChallengeRoute, { store: deps.store });
  await app.register(async (scope) => {
    const api = scope.withTypeProvider<TypeBoxTypeProvider>();
    api.setNotFoundHandler((request, reply) => sendError(reply, new ApiError(404, 'not_found', `There is no ${request.method} ${request.url.split('?')[0]}`)));
    sessionRoutes(api, deps);
    await api.register(async (authenticated) => {
      const routes = authenticated.withTypeProvider<TypeBoxTypeProvider>();
      // onRequest, before the body is read: an unauthenticated upload is refused without being received.
      routes.addHook('onRequest', authenticate(deps.store));
      for (const register of [accountRoutes, overviewRoutes, keyRoutes, deviceRoutes, adminRoutes, domainRoutes, dmarcRoutes, messageRoutes, suppressionRoutes, statsRoutes, webhookRoutes, destinationRoutes, templateRoutes, sandboxRoutes, batchRoutes, cancelRoutes, trackingSettingsRoutes, reportRoutes, receiveHereRoutes]) {
        register(routes, deps);
      }
      await routes.register(doctorRoutes, { store: deps.store, config: deps.config, listeners: deps.listeners, recorder: deps.smtpSessions });
    });
  }, { prefix: '/api/v1' });

  await app.register(registerDashboard, {});
  return app;
}
