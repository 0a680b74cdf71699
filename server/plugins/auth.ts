import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { API_TOKEN_PREFIX, SESSION_POLICY, canReadZone, denial, type AuditActor, type Permission, type Zone } from '../../content/index.js';
import { AppError } from '../errors.js';
import { createAuth, hashSessionId, staffActor, type AuthService } from '../services/auth.js';
import type { Data, StoredUser } from '../services/store.js';

/** A logged-in staff member making a request, by session cookie or by API token. */
export interface Principal {
  readonly user: StoredUser;
  /** The session's hash; for an API token a value no session has, so logout ends nothing. */
  readonly sessionHash: string;
  /** The API token the request came with, or null for a session. */
  readonly tokenId: string | null;
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

/** SHA-256 of an API token's secret, as the store keeps it. */
export function hashApiToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

const BEARER = new RegExp(`^Bearer (${API_TOKEN_PREFIX}[A-Za-z0-9_-]{43})$`);

/** The API token secret of an `Authorization: Bearer zct_…` header, if any. */
export function bearerOf(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  return typeof h === 'string' ? (BEARER.exec(h.trim())?.[1] ?? null) : null;
}

// Writes lastUsedAt only when it is this stale, so that a busy feed does not write the store each time.
const TOKEN_TOUCH_EVERY_MS = 60_000;

async function tokenPrincipal(app: FastifyInstance, secret: string): Promise<Principal | 'disabled' | null> {
  const tokenHash = hashApiToken(secret);
  const data = app.store.read();
  const token = data.apiTokens.find((t) => t.tokenHash === tokenHash);
  if (!token || token.revokedAt !== null) return null;
  const user = data.users.find((u) => u.id === token.userId);
  if (!user) return null;
  if (user.disabled) return 'disabled';
  const now = Date.now();
  if (token.lastUsedAt === null || now - Date.parse(token.lastUsedAt) > TOKEN_TOUCH_EVERY_MS) {
    await app.store.write((draft) => {
      const t = draft.apiTokens.find((x) => x.id === token.id);
      if (t) t.lastUsedAt = new Date(now).toISOString();
    });
  }
  return { user, sessionHash: `api-token:${token.id}`, tokenId: token.id };
}

/**
 * Resolves the staff principal of a request from its session cookie or, without a cookie, from
 * its API token; null when neither is valid (a revoked token included), 'disabled' for a token
 * whose account is disabled.
 */
export async function resolvePrincipal(app: FastifyInstance, sessionId: string | null, bearer: string | null = null): Promise<Principal | 'expired' | 'disabled' | null> {
  if (!sessionId) return bearer ? tokenPrincipal(app, bearer) : null;
  const found = await app.auth.session(sessionId);
  if (found === null || found === 'expired') return found;
  return { user: found.user, sessionHash: hashSessionId(sessionId), tokenId: null };
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
 * call it. Staff routes need a live session (or an API token) whose role grants the declared
 * permission.
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
      const sessionId = sessionIdOf(req);
      // SameSite=Strict keeps the cookie off cross-site requests; this refuses any that slip by.
      // A request without the cookie carries no ambient credential (a browser never adds an
      // Authorization header by itself), so an API token needs no Origin check.
      if (sessionId && req.method !== 'GET' && req.method !== 'HEAD' && !sameOrigin(req)) throw new AppError('CROSS_SITE_REQUEST');
      const p = await resolvePrincipal(app, sessionId, sessionId ? null : bearerOf(req));
      if (p === null) throw new AppError('AUTH_REQUIRED');
      if (p === 'disabled') throw new AppError('ACCOUNT_DISABLED');
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
