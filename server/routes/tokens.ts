import { randomBytes } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { API_TOKEN_PREFIX, ApiTokenCreateSchema, ApiTokenCreatedSchema, ApiTokenSchema, type ApiToken } from '../../content/index.js';
import { AppError } from '../errors.js';
import { actorOf, hashApiToken, isAllowed, principalOf } from '../plugins/auth.js';
import { recordAudit } from '../services/audit.js';
import type { Data, StoredApiToken } from '../services/store.js';
import { IdParams, errorResponses, newId } from './crud.js';

const tags = ['tokens API 令牌'];
const staff = { auth: { permission: 'read' } } as const;

/** The token as the API shows it, without its hash. */
export function presentToken({ tokenHash: _omit, ...token }: StoredApiToken): ApiToken {
  return token;
}

/**
 * Whether the caller may see and revoke the tokens of `userId`: their own, and as an admin
 * (user:admin) those of the accounts they manage, as `GET /api/users` lists them.
 */
function mayManage(req: FastifyRequest, data: Readonly<Data>, userId: string): boolean {
  const me = principalOf(req).user;
  if (userId === me.id) return true;
  const owner = data.users.find((u) => u.id === userId);
  if (!owner || !isAllowed(req, data, 'user:admin', null)) return false;
  if (me.zoneId === null) return true;
  return owner.zoneId !== null && isAllowed(req, data, 'user:admin', owner.zoneId);
}

/**
 * API tokens: any staff member makes them for themselves, for machine clients such as a CAP
 * feed. A token acts exactly as its account, so its rights are that account's role and zone.
 */
export default async function tokenRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/tokens',
    { config: staff, schema: { tags, summary: 'The caller’s API tokens; for an admin also those of the accounts they manage', response: { 200: Type.Array(ApiTokenSchema), ...errorResponses } } },
    async (req) => {
      const data = app.store.read();
      return data.apiTokens.filter((t) => mayManage(req, data, t.userId)).map(presentToken);
    },
  );

  app.post(
    '/api/tokens',
    {
      config: staff,
      schema: { tags, summary: 'Create an API token for oneself; the secret is in this answer only', body: ApiTokenCreateSchema, response: { 201: ApiTokenCreatedSchema, ...errorResponses } },
    },
    async (req, reply) => {
      // A stolen token must not be able to mint others that outlive its revocation.
      if (principalOf(req).tokenId !== null) throw new AppError('API_TOKEN_SESSION_REQUIRED');
      const user = principalOf(req).user;
      const secret = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const token = await app.store.write((draft) => {
        const doc: StoredApiToken = {
          id: newId('tok'),
          name: req.body.name,
          userId: user.id,
          tokenHash: hashApiToken(secret),
          createdAt: new Date().toISOString(),
          lastUsedAt: null,
          revokedAt: null,
        };
        draft.apiTokens.push(doc);
        recordAudit(draft, { actor: actorOf(req), action: 'api-token.create', entity: 'api-token', entityId: doc.id, zoneId: user.zoneId, after: doc });
        return doc;
      });
      return reply.status(201).send({ token: presentToken(token), secret });
    },
  );

  app.delete(
    '/api/tokens/:id',
    { config: staff, schema: { tags, summary: 'Revoke an API token; it stops working at once', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await app.store.write((draft) => {
        const t = draft.apiTokens.find((x) => x.id === req.params.id);
        if (!t) throw new AppError('NOT_FOUND', `tokens/${req.params.id}`);
        if (!mayManage(req, draft, t.userId)) throw new AppError('FORBIDDEN_SCOPE', `the token of another account`);
        if (t.revokedAt !== null) return;
        const before = { ...t };
        t.revokedAt = new Date().toISOString();
        const owner = draft.users.find((u) => u.id === t.userId);
        recordAudit(draft, { actor: actorOf(req), action: 'api-token.revoke', entity: 'api-token', entityId: t.id, zoneId: owner?.zoneId ?? null, before, after: t });
      });
      return reply.status(204).send(null);
    },
  );
}
