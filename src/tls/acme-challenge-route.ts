/**
 * Answers the CA's HTTP-01 requests on the HTTP listener. The answers come
 * from the store, so whichever node the request reaches can answer for the
 * node that placed the order. (Let's Encrypt asks on port 80: forward it to
 * MAILROOM_HTTP_PORT, or run the HTTP listener on 80.)
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../store/database.ts';
import { findChallengeAnswer } from './certificate-store.ts';

export interface AcmeChallengeRouteOptions {
  store: Store;
}

const TOKEN = /^[A-Za-z0-9_-]{1,200}$/;

export const acmeChallengeRoute: FastifyPluginAsync<AcmeChallengeRouteOptions> = async (app, options) => {
  app.get<{ Params: { token: string } }>('/.well-known/acme-challenge/:token', async (request, reply) => {
    const { token } = request.params;
    const answer = TOKEN.test(token) ? await findChallengeAnswer(options.store, token) : null;
    reply.header('cache-control', 'no-store').type('text/plain; charset=utf-8');
    return answer === null ? reply.code(404).send('no such ACME challenge\n') : reply.send(answer);
  });
};
