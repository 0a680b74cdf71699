import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Who is making a request. Accounts and roles arrive in a later issue; for now everyone is staff. */
export interface Principal {
  readonly kind: 'staff';
  readonly userId: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * The one authentication hook in front of /api. It lets every request through for now, so that
 * accounts can replace it in one place.
 */
export default fp(
  async function authPlugin(app: FastifyInstance) {
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request: FastifyRequest) => {
      if (request.url.startsWith('/api/')) request.principal = { kind: 'staff', userId: null };
    });
  },
  { name: 'zonecast-auth' },
);
