import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static, type TSchema } from 'typebox';
import { ErrorBodySchema, IdSchema, type Permission } from '../../content/index.js';
import { AppError } from '../errors.js';
import { actorOf, assertAllowed, readableZones } from '../plugins/auth.js';
import { recordAudit } from '../services/audit.js';
import type { Change } from '../services/manifests.js';
import type { CollectionName, Data } from '../services/store.js';

/** Collections edited through the generic routes (media has its own). */
export type CrudCollection = Exclude<CollectionName, 'media'>;
export type Doc<C extends CrudCollection> = Data[C][number];

/** A new id: the prefix and 12 hex digits. */
export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export const IdParams = Type.Object({ id: IdSchema });

/** The error responses every route may give, for the OpenAPI page. */
export const errorResponses = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
  404: ErrorBodySchema,
  409: ErrorBodySchema,
  422: ErrorBodySchema,
} as const;

export interface CrudSpec<C extends CrudCollection, I extends TSchema, O extends TSchema> {
  readonly path: string;
  readonly tag: string;
  readonly collection: C;
  readonly idPrefix: string;
  /** The entity's name in the audit log. */
  readonly entity: string;
  /** What the caller's role must grant to create, replace and delete (reading needs `read`). */
  readonly permission: Permission | { readonly create: Permission; readonly update: Permission; readonly delete: Permission };
  /** The zone a document (or an input) belongs to, whose subtree the caller must act in. */
  zoneOf(doc: Doc<C> | Static<I>): string | null;
  /** Whether the caller may read a document; by default, when its zone is readable. */
  readable?(doc: Doc<C>, canReadZone: (zoneId: string) => boolean, req: FastifyRequest, data: Readonly<Data>): boolean;
  readonly input: I;
  readonly output: O;
  /** Query keys that filter the list by equality on the stored field of the same name. */
  readonly filters?: readonly string[];
  /** Methods this factory should not register because the caller writes its own. */
  readonly skip?: readonly ('create' | 'update' | 'delete')[];
  /** Builds the stored document from the input on the draft; throws AppError on bad input. */
  build(input: Static<I>, draft: Data, ctx: { id: string; now: string; existing: Doc<C> | undefined; req: FastifyRequest }): Doc<C>;
  /** Throws AppError when the document is still referenced. */
  checkDelete(draft: Data, id: string): void;
  /** The response form of a stored document. */
  present(doc: Doc<C>, data: Readonly<Data>, req: FastifyRequest): Static<O>;
  change(before: Doc<C> | undefined, after: Doc<C> | undefined): Change;
}

function list<C extends CrudCollection>(data: Data, c: C): Doc<C>[] {
  return data[c] as Doc<C>[];
}

/** The permission `spec` needs for `method`. */
export function permissionFor(spec: Pick<CrudSpec<CrudCollection, TSchema, TSchema>, 'permission'>, method: 'create' | 'update' | 'delete'): Permission {
  return typeof spec.permission === 'string' ? spec.permission : spec.permission[method];
}

/** Creates a document through `spec` inside a store write, audited, then publishes the change. */
export async function createDoc<C extends CrudCollection, I extends TSchema, O extends TSchema>(
  app: FastifyInstance,
  req: FastifyRequest,
  spec: CrudSpec<C, I, O>,
  input: Static<I>,
  extra?: (doc: Doc<C>, draft: Data) => Doc<C>,
): Promise<Doc<C>> {
  const requested = (input as { id?: string }).id;
  const doc = await app.store.write((draft) => {
    assertAllowed(req, draft, permissionFor(spec, 'create'), spec.zoneOf(input));
    const id = requested ?? newId(spec.idPrefix);
    if (list(draft, spec.collection).some((d) => d.id === id)) throw new AppError('ID_TAKEN', id);
    let built = spec.build(input, draft, { id, now: new Date().toISOString(), existing: undefined, req });
    if (extra) built = extra(built, draft);
    list(draft, spec.collection).push(built);
    recordAudit(draft, { actor: actorOf(req), action: `${spec.entity}.create`, entity: spec.entity, entityId: id, zoneId: spec.zoneOf(built), after: built });
    return built;
  });
  await app.realtime.publish(spec.change(undefined, doc));
  return doc;
}

/** Registers list, get, create, replace and delete routes for one collection. */
export function registerCrud<C extends CrudCollection, I extends TSchema, O extends TSchema>(app: FastifyInstance, spec: CrudSpec<C, I, O>): void {
  const base = `/api/${spec.path}`;
  const tags = [spec.tag];
  const find = (data: Readonly<Data>, id: string): Doc<C> => {
    const doc = list(data as Data, spec.collection).find((d) => d.id === id);
    if (!doc) throw new AppError('NOT_FOUND', `${spec.path}/${id}`);
    return doc;
  };
  const query = Type.Object(Object.fromEntries((spec.filters ?? []).map((f) => [f, Type.Optional(Type.String({ maxLength: 64 }))])), {
    additionalProperties: false,
  });

  const readable = (req: FastifyRequest, data: Readonly<Data>) => {
    const canRead = readableZones(req, data);
    return (d: Doc<C>) => (spec.readable ? spec.readable(d, canRead, req, data) : canRead(spec.zoneOf(d) ?? ''));
  };
  const read = { auth: { permission: 'read' } } as const;

  app.get(base, { config: read, schema: { tags, summary: `List ${spec.path} the caller may read`, querystring: query, response: { 200: Type.Array(spec.output), ...errorResponses } } }, async (req) => {
    const data = app.store.read();
    const q = req.query as Record<string, string | undefined>;
    const mayRead = readable(req, data);
    const docs = list(data as Data, spec.collection).filter(
      (d) => Object.entries(q).every(([k, v]) => v === undefined || (d as unknown as Record<string, unknown>)[k] === v) && mayRead(d),
    );
    return docs.map((d) => spec.present(d, data, req));
  });

  app.get(`${base}/:id`, { config: read, schema: { tags, summary: `Get one of ${spec.path}`, params: IdParams, response: { 200: spec.output, ...errorResponses } } }, async (req) => {
    const data = app.store.read();
    const doc = find(data, (req.params as { id: string }).id);
    if (!readable(req, data)(doc)) throw new AppError('FORBIDDEN_SCOPE');
    return spec.present(doc, data, req);
  });

  if (!spec.skip?.includes('create')) {
    app.post(base, { config: { auth: { permission: permissionFor(spec, 'create') } }, schema: { tags, summary: `Create one of ${spec.path}`, body: spec.input, response: { 201: spec.output, ...errorResponses } } }, async (req, reply) => {
      const doc = await createDoc(app, req, spec, req.body as Static<I>);
      return reply.status(201).send(spec.present(doc, app.store.read(), req));
    });
  }

  if (!spec.skip?.includes('update')) {
    app.put(
      `${base}/:id`,
      { config: { auth: { permission: permissionFor(spec, 'update') } }, schema: { tags, summary: `Replace one of ${spec.path}`, params: IdParams, body: spec.input, response: { 200: spec.output, ...errorResponses } } },
      async (req) => {
        const id = (req.params as { id: string }).id;
        const body = req.body as Static<I>;
        const bodyId = (body as { id?: string }).id;
        if (bodyId !== undefined && bodyId !== id) throw new AppError('VALIDATION_FAILED', 'body id differs from the URL');
        const [before, after] = await app.store.write((draft) => {
          const docs = list(draft, spec.collection);
          const i = docs.findIndex((d) => d.id === id);
          const existing = docs[i];
          if (!existing) throw new AppError('NOT_FOUND', `${spec.path}/${id}`);
          // The caller must act where the document is now and where it is going.
          assertAllowed(req, draft, permissionFor(spec, 'update'), spec.zoneOf(existing));
          assertAllowed(req, draft, permissionFor(spec, 'update'), spec.zoneOf(body));
          const built = spec.build(body, draft, { id, now: new Date().toISOString(), existing, req });
          docs[i] = built;
          recordAudit(draft, { actor: actorOf(req), action: `${spec.entity}.update`, entity: spec.entity, entityId: id, zoneId: spec.zoneOf(built), before: existing, after: built });
          return [existing, built] as const;
        });
        await app.realtime.publish(spec.change(before, after));
        return spec.present(after, app.store.read(), req);
      },
    );
  }

  if (!spec.skip?.includes('delete')) {
    app.delete(
      `${base}/:id`,
      { config: { auth: { permission: permissionFor(spec, 'delete') } }, schema: { tags, summary: `Delete one of ${spec.path}`, params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
      async (req, reply) => {
        const id = (req.params as { id: string }).id;
        const before = await app.store.write((draft) => {
          const docs = list(draft, spec.collection);
          const i = docs.findIndex((d) => d.id === id);
          const existing = docs[i];
          if (!existing) throw new AppError('NOT_FOUND', `${spec.path}/${id}`);
          assertAllowed(req, draft, permissionFor(spec, 'delete'), spec.zoneOf(existing));
          spec.checkDelete(draft, id);
          docs.splice(i, 1);
          recordAudit(draft, { actor: actorOf(req), action: `${spec.entity}.delete`, entity: spec.entity, entityId: id, zoneId: spec.zoneOf(existing), before: existing });
          return existing;
        });
        await app.realtime.publish(spec.change(before, undefined));
        return reply.status(204).send(null);
      },
    );
  }
}
