import { createHash } from 'node:crypto';
import { AUDIT_GENESIS_HASH, canonicalJson, type AuditActor, type AuditEntry } from '../../content/index.js';
import type { Data } from './store.js';

/** What a change tells the audit log; the sequence, time and hashes are added here. */
export interface AuditInput {
  readonly actor: AuditActor;
  readonly action: string;
  readonly entity: string;
  readonly entityId: string | null;
  readonly zoneId: string | null;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly detail?: string | null;
}

/** Keys whose values never enter the log. */
const SECRET_KEYS = new Set(['passwordHash', 'tokenHash', 'secretHash', 'idHash', 'password', 'deviceToken']);

/** A copy of `value` with secrets removed at any depth. */
export function redact(value: unknown): unknown {
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(redact);
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([k]) => !SECRET_KEYS.has(k)).map(([k, v]) => [k, redact(v)]));
}

/** SHA-256 over the previous hash and the canonical JSON of the entry without its own hash. */
export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(entry.prevHash).update('\n').update(canonicalJson(entry)).digest('hex');
}

/**
 * Records a change inside the store mutation that makes it, so the entry and the change are
 * committed together: the entry goes to the store's outbox and becomes the chain's new head.
 * The audit service later appends outbox entries to the log file.
 */
export function recordAudit(draft: Data, input: AuditInput): AuditEntry {
  return recordAuditAt(draft, input, new Date());
}

/**
 * `recordAudit` with the entry's time given: for jobs that act "as of" a moment (pruning) and
 * for tests that need entries in past months. Handlers use `recordAudit`.
 */
export function recordAuditAt(draft: Data, input: AuditInput, at: Date): AuditEntry {
  const head = draft.audit.head;
  const body: Omit<AuditEntry, 'hash'> = {
    seq: (head?.seq ?? 0) + 1,
    at: at.toISOString(),
    actor: input.actor,
    action: input.action,
    entity: input.entity,
    entityId: input.entityId,
    zoneId: input.zoneId,
    before: redact(input.before),
    after: redact(input.after),
    detail: input.detail ?? null,
    prevHash: head?.hash ?? AUDIT_GENESIS_HASH,
  };
  const entry: AuditEntry = { ...body, hash: entryHash(body) };
  draft.audit.outbox.push(entry);
  draft.audit.head = { seq: entry.seq, hash: entry.hash };
  return entry;
}
