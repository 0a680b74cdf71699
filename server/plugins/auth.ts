import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { SESSION_POLICY, canReadZone, denial, type AuditActor, type Permission, type Zone } from '../../content/index.js';
import { AppError } from '../errors.js';
import { createAuth, hashSessionId, staffActor, type AuthService } from '../services/auth.js';
import type { Data, StoredUser } from '../services/store.js';

/** A logged-in staff member making a request. */
export interface Principal {
  readonly user: StoredUser;
  readonly sessionHash: string;
}

/**
 * Who may call a route: anyone (`public`), a screen with its device token (`device`, checked by
 * the route), or staff whose role grants `permission`. The zone scope is checked by the route,
 * which knows what the request touches.
 */
export type RouteAuth = 'public' | 'device' | { readonly permission: Permission };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyInstance {
    auth: AuthService;
    /** Every route registered after this plugin, with who may call it (for the authorization test and docs). */
    routeAuths: { method: string; url: string; auth: RouteAuth | undefined }[];
  }
}

/** Routes under /api that plugins register without our config (the OpenAPI page). */
const EXEMPT = /^\/api\/docs(\/|$)/;

/** The staff principal of a request; routes that declare a permission always have one. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError('AUTH_REQUIRED');
  return req.principal;
}

/** The audit actor of a staff request. */
export function actorOf(req: FastifyRequest): AuditActor {
  return staffActor(principalOf(req).user);
}

function zoneMap(data: Readonly<Data>): ReadonlyMap<string, Zone> {
  return new Map(data.zones.map((z) => [z.id, z]));
}

/** Throws FORBIDDEN_ROLE or FORBIDDEN_SCOPE unless the caller may do `permission` in `zoneId`. */
export function assertAllowed(req: FastifyRequest, data: Readonly<Data>, permission: Permission, zoneId: string | null): void {
  const why = denial(principalOf(req).user, permission, zoneId, zoneMap(data));
  if (why) throw new AppError(why, zoneId ? `zone ${zoneId}` : undefined);
}

/** Whether the caller may do `permission` in `zoneId`. */
export function isAllowed(req: FastifyRequest, data: Readonly<Data>, permission: Permission, zoneId: string | null): boolean {
  return denial(principalOf(req).user, permission, zoneId, zoneMap(data)) === null;
}

/** A test for "may the caller read what zone X owns", for filtering lists. */
export function readableZones(req: FastifyRequest, data: Readonly<Data>): (zoneId: string) => boolean {
  const user = principalOf(req).user;
  const zones = zoneMap(data);
  return (zoneId) => canReadZone(user, zoneId, zones);
}

/** The cookie options of the session cookie: httpOnly, SameSite=Strict, Secure over HTTPS. */
export function sessionCookieOptions(app: FastifyInstance) {
  const secure = app.config.tls !== null || (app.config.publicUrl?.startsWith('https://') ?? false);
  return { httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: Math.floor(SESSION_POLICY.absoluteMs / 1000) } as const;
}

/** The session id a request carries, if any. */
export function sessionIdOf(req: FastifyRequest): string | null {
  const v = req.cookies[SESSION_POLICY.cookie];
  return typeof v === 'string' && v.length >= 20 && v.length <= 100 ? v : null;
}

/** Resolves the staff principal of a request from its cookie, or null. */
export async function resolvePrincipal(app: FastifyInstance, sessionId: string | null): Promise<Principal | 'expired' | null> {
  if (!sessionId) return null;
  const found = await app.auth.session(sessionId);
  if (found === null || found === 'expired') return found;
  return { user: found.user, sessionHash: hashSessionId(sessionId) };
}

function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * The one authentication hook in front of /api. Every /api route must declare its `auth`
 * (registration fails otherwise), so that a route cannot be added without deciding who may
 * call it. Staff routes need a live session whose role grants the declared permission.
 */
export default fp(
  async function authPlugin(app: FastifyInstance) {
    app.decorate('auth', createAuth({ store: app.store }));
    app.decorateRequest('principal', null);

    app.decorate('routeAuths', []);
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) app.routeAuths.push({ method, url: route.url, auth: route.config?.auth });
      if (!route.url.startsWith('/api/') || EXEMPT.test(route.url)) return;
      if (!route.config?.auth) throw new Error(`route ${String(route.method)} ${route.url} declares no auth (config.auth)`);
    });

    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const auth = req.routeOptions.config?.auth;
      if (!auth || auth === 'public' || auth === 'device') return;
      // SameSite=Strict keeps the cookie off cross-site requests; this refuses any that slip by.
      if (req.method !== 'GET' && req.method !== 'HEAD' && !sameOrigin(req)) throw new AppError('CROSS_SITE_REQUEST');
      const p = await resolvePrincipal(app, sessionIdOf(req));
      if (p === null) throw new AppError('AUTH_REQUIRED');
      if (p === 'expired') {
        reply.clearCookie(SESSION_POLICY.cookie, { path: '/' });
        throw new AppError('SESSION_EXPIRED');
      }
      req.principal = p;
      assertAllowed(req, app.store.read(), auth.permission, null);
    });
  },
  { name: 'zonecast-auth', dependencies: ['store', 'zonecast-cookie'] },
);
