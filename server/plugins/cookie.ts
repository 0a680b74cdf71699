import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Cookie parsing and setting, for the staff session cookie. */
export default fp(
  async function cookiePlugin(app: FastifyInstance) {
    await app.register(cookie);
  },
  { name: 'zonecast-cookie' },
);
