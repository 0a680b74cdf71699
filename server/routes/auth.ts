import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ErrorBodySchema, LoginSchema, MeSchema, PasswordChangeSchema, SESSION_POLICY } from '../../content/index.js';
import { meOf } from '../services/auth.js';
import { hashSessionId } from '../services/auth.js';
import { principalOf, sessionCookieOptions, sessionIdOf } from '../plugins/auth.js';
import { errorResponses } from './crud.js';

const tags = ['auth 登录'];
const authErrors = { ...errorResponses, 401: ErrorBodySchema, 403: ErrorBodySchema, 429: ErrorBodySchema };

/** Login, logout, who am I, and changing one's own password. */
export default async function authRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/auth/login',
    { config: { auth: 'public' }, schema: { tags, summary: 'Log in; sets the session cookie', body: LoginSchema, response: { 200: MeSchema, ...authErrors } } },
    async (req, reply) => {
      const previous = sessionIdOf(req);
      const { sessionId, user } = await app.auth.login(req.body.username, req.body.password, req.ip, previous ? hashSessionId(previous) : null);
      reply.setCookie(SESSION_POLICY.cookie, sessionId, sessionCookieOptions(app));
      return meOf(user, app.store.read());
    },
  );

  app.post(
    '/api/auth/logout',
    { config: { auth: { permission: 'read' } }, schema: { tags, summary: 'Log out; ends the session', response: { 204: Type.Null(), ...authErrors } } },
    async (req, reply) => {
      await app.auth.logout(principalOf(req).sessionHash);
      app.realtime.disconnectSession(principalOf(req).sessionHash);
      reply.clearCookie(SESSION_POLICY.cookie, { path: '/' });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/auth/me',
    { config: { auth: { permission: 'read' } }, schema: { tags, summary: 'The logged-in user, role, zone and permissions', response: { 200: MeSchema, ...authErrors } } },
    async (req) => meOf(principalOf(req).user, app.store.read()),
  );

  app.post(
    '/api/auth/password',
    { config: { auth: { permission: 'read' } }, schema: { tags, summary: 'Change one’s own password; other sessions end', body: PasswordChangeSchema, response: { 204: Type.Null(), ...authErrors } } },
    async (req, reply) => {
      const p = principalOf(req);
      await app.auth.changePassword(p.user, req.body.current, req.body.next, p.sessionHash);
      return reply.status(204).send(null);
    },
  );
}
