import { Type, type Static } from 'typebox';

/** Who made a change: a staff member, a screen (pairing) or the system itself (seeding, jobs). */
export const AuditActorSchema = Type.Object(
  {
    kind: Type.Enum(['staff', 'screen', 'system'] as const),
    userId: Type.Union([Type.String(), Type.Null()]),
    username: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type AuditActor = Static<typeof AuditActorSchema>;

/**
 * One audit record: who, when, what, and the document before and after (secrets removed). The
 * log is hash-chained: `hash` is SHA-256 over `prevHash` and the canonical JSON of the entry
 * without `hash`, so an edited, removed or reordered entry breaks every hash after it.
 */
export const AuditEntrySchema = Type.Object(
  {
    seq: Type.Integer({ minimum: 1 }),
    at: Type.String({ description: 'ISO-8601 instant' }),
    actor: AuditActorSchema,
    action: Type.String({ description: 'entity.verb, e.g. content.approve, user.create, auth.login-failed' }),
    entity: Type.String(),
    entityId: Type.Union([Type.String(), Type.Null()]),
    zoneId: Type.Union([Type.String(), Type.Null()], { description: 'The zone the change belongs to, for scoped queries' }),
    before: Type.Unknown(),
    after: Type.Unknown(),
    detail: Type.Union([Type.String(), Type.Null()]),
    prevHash: Type.String(),
    hash: Type.String(),
  },
  { additionalProperties: false },
);
export type AuditEntry = Static<typeof AuditEntrySchema>;

/** The chain starts from this hash. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** Audit entries are kept at least this long (Cybersecurity Law, Art. 21: six months). */
export const AUDIT_MIN_RETENTION_MONTHS = 6;

export const AuditQuerySchema = Type.Object(
  {
    zoneId: Type.Optional(Type.String({ maxLength: 64 })),
    userId: Type.Optional(Type.String({ maxLength: 64 })),
    entity: Type.Optional(Type.String({ maxLength: 32 })),
    entityId: Type.Optional(Type.String({ maxLength: 80 })),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    beforeSeq: Type.Optional(Type.Integer({ minimum: 1, description: 'Page backwards from this sequence number' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuerySchema>;
