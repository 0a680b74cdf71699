import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ErrorBodySchema, PasswordResetSchema, UserCreateSchema, UserNameSchema, UserPatchSchema, UserSchema, roleZoneValid, type Zone } from '../../content/index.js';
import { AppError } from '../errors.js';
import { actorOf, assertAllowed, isAllowed, principalOf, readableZones } from '../plugins/auth.js';
import { checkPasswordStrength, hashPassword, presentUser } from '../services/auth.js';
import { recordAudit } from '../services/audit.js';
import type { Data, StoredUser } from '../services/store.js';
import { IdParams, errorResponses, newId } from './crud.js';

const tags = ['users 用户'];
const errors = { ...errorResponses, 401: ErrorBodySchema, 403: ErrorBodySchema };
const admin = { auth: { permission: 'user:admin' } } as const;

/** True when another enabled city admin remains if `userId` stops being one. */
function anotherAdmin(data: Data, userId: string): boolean {
  return data.users.some((u) => u.id !== userId && u.role === 'city-admin' && !u.disabled);
}

/** Staff accounts: admins create, disable and re-scope users within their own subtree. */
export default async function userRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  const zonesOf = (data: Readonly<Data>) => new Map<string, Zone>(data.zones.map((z) => [z.id, z]));
  // An admin manages the accounts bound inside their own subtree; only a system-wide one (zone
  // null) manages other system-wide accounts.
  const assertManages = (req: Parameters<typeof principalOf>[0], data: Readonly<Data>, u: Pick<StoredUser, 'zoneId'>) => {
    if (u.zoneId === null && principalOf(req).user.zoneId !== null) throw new AppError('FORBIDDEN_SCOPE', 'a system-wide account');
    assertAllowed(req, data, 'user:admin', u.zoneId);
  };

  app.get('/api/users', { config: admin, schema: { tags, summary: 'List users in the caller’s subtree', response: { 200: Type.Array(UserSchema), ...errors } } }, async (req) => {
    const data = app.store.read();
    const me = principalOf(req).user;
    return data.users
      .filter((u) => me.zoneId === null || (u.zoneId !== null && isAllowed(req, data, 'user:admin', u.zoneId)))
      .map(presentUser);
  });

  app.get(
    '/api/users/names',
    {
      config: { auth: { permission: 'read' } },
      schema: { tags, summary: 'Names of the colleagues whose zones the caller can read, to show who wrote and reviewed what', response: { 200: Type.Array(UserNameSchema), ...errors } },
    },
    async (req) => {
      const data = app.store.read();
      const canRead = readableZones(req, data);
      return data.users.filter((u) => u.zoneId === null || canRead(u.zoneId)).map(({ id, username, displayName }) => ({ id, username, displayName }));
    },
  );

  app.post('/api/users', { config: admin, schema: { tags, summary: 'Create a user', body: UserCreateSchema, response: { 201: UserSchema, ...errors } } }, async (req, reply) => {
    const { password, ...input } = req.body;
    checkPasswordStrength(password, input.username);
    const passwordHash = await hashPassword(password);
    const user = await app.store.write((draft) => {
      if (!roleZoneValid(input.role, input.zoneId, zonesOf(draft))) throw new AppError('ROLE_ZONE_INVALID');
      assertManages(req, draft, input);
      if (draft.users.some((u) => u.username === input.username)) throw new AppError('USERNAME_TAKEN', input.username);
      const id = input.id ?? newId('u');
      if (draft.users.some((u) => u.id === id)) throw new AppError('ID_TAKEN', id);
      const now = new Date().toISOString();
      const doc: StoredUser = { ...input, id, disabled: input.disabled ?? false, passwordHash, createdAt: now, updatedAt: now, passwordChangedAt: now };
      draft.users.push(doc);
      recordAudit(draft, { actor: actorOf(req), action: 'user.create', entity: 'user', entityId: id, zoneId: doc.zoneId, after: doc });
      return doc;
    });
    return reply.status(201).send(presentUser(user));
  });

  app.patch(
    '/api/users/:id',
    { config: admin, schema: { tags, summary: 'Rename, re-role, re-scope, disable or enable a user', params: IdParams, body: UserPatchSchema, response: { 200: UserSchema, ...errors } } },
    async (req) => {
      const user = await app.store.write((draft) => {
        const u = draft.users.find((x) => x.id === req.params.id);
        if (!u) throw new AppError('NOT_FOUND', `users/${req.params.id}`);
        assertManages(req, draft, u);
        const next: StoredUser = { ...u, ...req.body, updatedAt: new Date().toISOString() };
        assertManages(req, draft, next);
        if (!roleZoneValid(next.role, next.zoneId, zonesOf(draft))) throw new AppError('ROLE_ZONE_INVALID');
        const stopsBeingAdmin = u.role === 'city-admin' && !u.disabled && (next.role !== 'city-admin' || next.disabled);
        if (stopsBeingAdmin && !anotherAdmin(draft, u.id)) throw new AppError('LAST_ADMIN');
        const before = { ...u };
        Object.assign(u, next);
        // A disabled or re-scoped account's sessions end: it must log in again under its new rights.
        if (next.disabled || req.body.zoneId !== undefined || req.body.role !== undefined) draft.sessions = draft.sessions.filter((s) => s.userId !== u.id);
        recordAudit(draft, { actor: actorOf(req), action: next.disabled ? 'user.disable' : 'user.update', entity: 'user', entityId: u.id, zoneId: u.zoneId, before, after: next });
        return u;
      });
      return presentUser(user);
    },
  );

  app.post(
    '/api/users/:id/password',
    { config: admin, schema: { tags, summary: 'Set a new password for a user; their sessions end', params: IdParams, body: PasswordResetSchema, response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      const target = app.store.read().users.find((x) => x.id === req.params.id);
      if (!target) throw new AppError('NOT_FOUND', `users/${req.params.id}`);
      checkPasswordStrength(req.body.password, target.username);
      const passwordHash = await hashPassword(req.body.password);
      await app.store.write((draft) => {
        const u = draft.users.find((x) => x.id === req.params.id);
        if (!u) throw new AppError('NOT_FOUND', `users/${req.params.id}`);
        assertManages(req, draft, u);
        u.passwordHash = passwordHash;
        u.passwordChangedAt = u.updatedAt = new Date().toISOString();
        draft.sessions = draft.sessions.filter((s) => s.userId !== u.id);
        // A reset is how an admin recovers a compromised account: its API tokens end too.
        for (const tok of draft.apiTokens) if (tok.userId === u.id && tok.revokedAt === null) tok.revokedAt = u.updatedAt;
        recordAudit(draft, { actor: actorOf(req), action: 'user.password-reset', entity: 'user', entityId: u.id, zoneId: u.zoneId });
      });
      return reply.status(204).send(null);
    },
  );
}
