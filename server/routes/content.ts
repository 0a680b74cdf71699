import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ContentInputSchema,
  ContentRecordSchema,
  REVIEW_ACTIONS,
  REVIEW_ACTION_LABELS,
  REVIEW_ACTION_PERMISSION,
  ReturnSchema,
  canEdit,
  inSubtree,
  isOwnWork,
  mediaHashesOf,
  nextStatus,
  type ContentInput,
  type ContentItem,
  type ContentRecord,
  type ReviewAction,
  type ReviewState,
} from '../../content/index.js';
import { AppError } from '../errors.js';
import { actorOf, assertAllowed, principalOf } from '../plugins/auth.js';
import { recordAudit } from '../services/audit.js';
import type { Change } from '../services/manifests.js';
import type { Data } from '../services/store.js';
import { checkMedia, checkRef, checkWindow } from './checks.js';
import { IdParams, createDoc, errorResponses, registerCrud, type CrudSpec } from './crud.js';

const NO_REVIEW: ReviewState = { createdBy: null, updatedBy: null, submittedBy: null, submittedAt: null, reviewedBy: null, reviewedAt: null, returnReason: null };

/** The version fields of a record: what screens would show were it approved now. */
function versionOf(record: ContentRecord): ContentItem {
  const { status: _status, published: _published, review: _review, ...version } = record;
  return version as ContentItem;
}

/** Checks an editor's input against the store and builds the version it describes. */
function buildVersion(input: ContentInput, draft: Data, { id, now, existing }: { id: string; now: string; existing: ContentRecord | undefined }): ContentItem {
  checkRef(draft, 'zones', input.zoneId);
  checkWindow(input.validFrom, input.validTo);
  if (input.kind === 'notice') checkWindow(input.publicityStart, input.publicityEnd);
  for (const hash of mediaHashesOf(input)) checkMedia(draft, hash);
  if (existing && existing.kind !== input.kind) throw new AppError('CONFLICT', 'the kind of an item cannot change');
  return { ...input, id, createdAt: existing?.createdAt ?? now, updatedAt: now } as ContentItem;
}

/** Screens show only published versions, so only a change of those can alter a manifest. */
const changeOf = (before: ContentRecord | undefined, after: ContentRecord | undefined): Change => ({
  entity: 'content',
  before: before?.published ?? undefined,
  after: after?.published ?? undefined,
});

/**
 * Applies a review action to a record, or throws: REVIEW_TRANSITION_INVALID when the status does
 * not allow it, REVIEW_OWN_CONTENT when a reviewer would approve their own work.
 */
function applyAction(record: ContentRecord, action: ReviewAction, userId: string, now: string, reason: string | undefined): ContentRecord {
  const status = nextStatus(record.status, record.published !== null, action);
  if (!status) throw new AppError('REVIEW_TRANSITION_INVALID', `${record.status} → ${action}`);
  const review = { ...record.review };
  let published = record.published;
  switch (action) {
    case 'submit':
      review.submittedBy = userId;
      review.submittedAt = now;
      break;
    case 'recall':
      break;
    case 'approve':
      if (isOwnWork(record.review, userId)) throw new AppError('REVIEW_OWN_CONTENT');
      published = versionOf(record);
      review.reviewedBy = userId;
      review.reviewedAt = now;
      review.returnReason = null;
      break;
    case 'return':
      review.reviewedBy = userId;
      review.reviewedAt = now;
      review.returnReason = reason ?? null;
      break;
    case 'withdraw':
      published = null;
      break;
  }
  return { ...record, status, published, review };
}

/**
 * Content items of every kind, and their review workflow (发布审核): editors write drafts and
 * submit them; reviewers approve (publish) or return them, and withdraw what is published.
 * Screens show only the approved version, which an edit leaves in place until it is approved.
 */
export default async function contentRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  const zonesOf = (data: Readonly<Data>) => new Map(data.zones.map((z) => [z.id, z]));
  const userIdOf = (req: FastifyRequest) => principalOf(req).user.id;

  const spec: CrudSpec<'content', typeof ContentInputSchema, typeof ContentRecordSchema> = {
    path: 'content',
    tag: 'content 内容',
    collection: 'content',
    idPrefix: 'c',
    entity: 'content',
    permission: 'content:write',
    zoneOf: (c) => c.zoneId,
    // Anything in the caller's own subtree, drafts included; from the zones above, only what is
    // published there (it reaches the caller's screens). Another town's drafts stay hidden.
    readable: (c, canReadZone, req, data) => inSubtree(principalOf(req).user, c.zoneId, zonesOf(data)) || (c.published !== null && canReadZone(c.zoneId)),
    input: ContentInputSchema,
    output: ContentRecordSchema,
    filters: ['kind', 'zoneId', 'status'],
    // Creating and replacing stamp the author, so they are written below; the factory lists, gets and deletes.
    skip: ['create', 'update'],
    build: (input, draft, ctx) => ({ ...buildVersion(input, draft, ctx), status: 'draft', published: null, review: NO_REVIEW }) as ContentRecord,
    checkDelete(draft, id) {
      if (draft.playlists.some((p) => p.entries.some((e) => e.contentId === id))) throw new AppError('IN_USE', 'a playlist lists this item');
      if (draft.content.some((c) => c.id === id && c.published !== null)) throw new AppError('CONTENT_PUBLISHED');
    },
    // From above, a reader sees only the version on screens: a parent zone's pending edit and its
    // review notes stay inside that zone's subtree.
    present: (doc, data, req) =>
      doc.published === null || inSubtree(principalOf(req).user, doc.zoneId, zonesOf(data)) ? doc : ({ ...doc.published, status: 'published', published: doc.published, review: NO_REVIEW } as ContentRecord),
    change: changeOf,
  };
  registerCrud(app, spec);
  const tags = [spec.tag];

  app.post(
    '/api/content',
    {
      config: { auth: { permission: 'content:write' } },
      schema: { tags, summary: 'Create an item as a draft; it reaches screens once submitted and approved', body: ContentInputSchema, response: { 201: ContentRecordSchema, ...errorResponses } },
    },
    async (req, reply) => {
      const userId = userIdOf(req);
      const doc = await createDoc(app, req, spec, req.body, (d) => ({ ...d, review: { ...d.review, createdBy: userId, updatedBy: userId } }));
      return reply.status(201).send(doc);
    },
  );

  app.put(
    '/api/content/:id',
    {
      config: { auth: { permission: 'content:write' } },
      schema: {
        tags,
        summary: 'Replace the working copy of an item (not while it is under review); a published version keeps showing until the edit is approved',
        params: IdParams,
        body: ContentInputSchema,
        response: { 200: ContentRecordSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { id } = req.params;
      const body = req.body;
      if (body.id !== undefined && body.id !== id) throw new AppError('VALIDATION_FAILED', 'body id differs from the URL');
      const userId = userIdOf(req);
      // Screens keep the published version, so a replacement changes no manifest: nothing to push.
      return app.store.write((draft) => {
        const i = draft.content.findIndex((c) => c.id === id);
        const existing = draft.content[i];
        if (!existing) throw new AppError('NOT_FOUND', `content/${id}`);
        // The caller must act where the item is now and where it is going.
        assertAllowed(req, draft, 'content:write', existing.zoneId);
        assertAllowed(req, draft, 'content:write', body.zoneId);
        if (!canEdit(existing.status)) throw new AppError('CONTENT_UNDER_REVIEW', `content/${id}`);
        const version = buildVersion(body, draft, { id, now: new Date().toISOString(), existing });
        const doc = { ...version, status: 'draft', published: existing.published, review: { ...existing.review, updatedBy: userId } } as ContentRecord;
        draft.content[i] = doc;
        recordAudit(draft, { actor: actorOf(req), action: 'content.update', entity: 'content', entityId: id, zoneId: doc.zoneId, before: existing, after: doc });
        return doc;
      });
    },
  );

  for (const action of REVIEW_ACTIONS) {
    const permission = REVIEW_ACTION_PERMISSION[action];
    const { en, zh } = REVIEW_ACTION_LABELS[action];
    app.post(
      `/api/content/:id/${action}`,
      {
        config: { auth: { permission } },
        schema: {
          tags,
          summary: `${en} (${zh}); 409 REVIEW_TRANSITION_INVALID when the item's status does not allow it`,
          params: IdParams,
          ...(action === 'return' ? { body: ReturnSchema } : {}),
          response: { 200: ContentRecordSchema, ...errorResponses },
        },
      },
      async (req) => {
        const { id } = req.params;
        const userId = userIdOf(req);
        const reason = action === 'return' ? (req.body as { reason: string }).reason : undefined;
        const [before, after] = await app.store.write((draft) => {
          const i = draft.content.findIndex((c) => c.id === id);
          const existing = draft.content[i];
          if (!existing) throw new AppError('NOT_FOUND', `content/${id}`);
          assertAllowed(req, draft, permission, existing.zoneId);
          const doc = applyAction(existing, action, userId, new Date().toISOString(), reason);
          draft.content[i] = doc;
          recordAudit(draft, { actor: actorOf(req), action: `content.${action}`, entity: 'content', entityId: id, zoneId: doc.zoneId, before: existing, after: doc, detail: reason });
          return [existing, doc] as const;
        });
        // Approving and withdrawing change what screens show: they hear of it at once.
        if (before.published !== after.published) await app.realtime.publish(changeOf(before, after));
        return after;
      },
    );
  }
}
