import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AuditEntrySchema, AuditQuerySchema, ErrorBodySchema, inSubtree, isCityLevel, type User, type Zone } from '../../content/index.js';
import { AppError } from '../errors.js';
import { principalOf } from '../plugins/auth.js';
import { AuditVerifyResultSchema } from '../services/audit-log.js';
import type { Data } from '../services/store.js';
import { errorResponses } from './crud.js';

const tags = ['audit 审计'];
const errors = { ...errorResponses, 401: ErrorBodySchema, 403: ErrorBodySchema };
const auditRead = { auth: { permission: 'audit:read' } } as const;

const AuditPageSchema = Type.Object(
  {
    entries: Type.Array(AuditEntrySchema, { description: 'Newest first' }),
    nextBeforeSeq: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as beforeSeq for the next page; null on the last page' }),
  },
  { additionalProperties: false },
);

/**
 * The zones whose entries `user` may see: their own subtree, plus system entries (zone null:
 * logins, prunes) for users bound to the whole system or a city. Null means everything.
 */
export function auditScope(user: Pick<User, 'zoneId'>, data: Readonly<Data>): Set<string | null> | null {
  if (user.zoneId === null) return null;
  const zones = new Map<string, Zone>(data.zones.map((z) => [z.id, z]));
  const scope = new Set<string | null>(data.zones.filter((z) => inSubtree(user, z.id, zones)).map((z) => z.id));
  if (isCityLevel(user, zones)) scope.add(null);
  return scope;
}

/** GET /api/audit (entries in the caller's zones, newest first) and GET /api/audit/verify. */
export default async function auditRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/audit',
    {
      config: auditRead,
      schema: {
        tags,
        summary: 'Query the audit log by zone, user, entity and time, newest first',
        querystring: AuditQuerySchema,
        response: { 200: AuditPageSchema, ...errors },
      },
    },
    async (req) => {
      const user = principalOf(req).user;
      const zoneIds = auditScope(user, app.store.read());
      // Asking for a zone outside one's scope is refused rather than answered with an empty
      // page, so that a wrong zone id is not mistaken for "nothing happened there".
      if (req.query.zoneId !== undefined && zoneIds !== null && !zoneIds.has(req.query.zoneId)) {
        throw new AppError('FORBIDDEN_SCOPE', `zone ${req.query.zoneId}`);
      }
      return app.audit.query({ ...req.query, zoneIds });
    },
  );

  app.get(
    '/api/audit/verify',
    {
      config: auditRead,
      schema: {
        tags,
        summary: 'Check the hash chain of the whole audit log against the anchor in the store',
        response: { 200: AuditVerifyResultSchema, ...errors },
      },
    },
    // The result names sequence numbers and files, never entry contents, so it is not scoped.
    async () => app.audit.verify(),
  );
}
