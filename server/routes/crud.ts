import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TSchema } from 'typebox';
import { ErrorBodySchema, IdSchema } from '../../content/index.js';
import { AppError } from '../errors.js';
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
  404: ErrorBodySchema,
  409: ErrorBodySchema,
  422: ErrorBodySchema,
} as const;

export interface CrudSpec<C extends CrudCollection, I extends TSchema, O extends TSchema> {
  readonly path: string;
  readonly tag: string;
  readonly collection: C;
  readonly idPrefix: string;
  readonly input: I;
  readonly output: O;
  /** Query keys that filter the list by equality on the stored field of the same name. */
  readonly filters?: readonly string[];
  /** Methods this factory should not register because the caller writes its own. */
  readonly skip?: readonly ('create' | 'update' | 'delete')[];
  /** Builds the stored document from the input on the draft; throws AppError on bad input. */
  build(input: Static<I>, draft: Data, ctx: { id: string; now: string; existing: Doc<C> | undefined }): Doc<C>;
  /** Throws AppError when the document is still referenced. */
  checkDelete(draft: Data, id: string): void;
  /** The response form of a stored document. */
  present(doc: Doc<C>, data: Readonly<Data>): Static<O>;
  change(before: Doc<C> | undefined, after: Doc<C> | undefined): Change;
}

function list<C extends CrudCollection>(data: Data, c: C): Doc<C>[] {
  return data[c] as Doc<C>[];
}

/** Creates a document through `spec` inside a store write, then publishes the change. */
export async function createDoc<C extends CrudCollection, I extends TSchema, O extends TSchema>(
  app: FastifyInstance,
  spec: CrudSpec<C, I, O>,
  input: Static<I>,
  extra?: (doc: Doc<C>) => Doc<C>,
): Promise<Doc<C>> {
  const requested = (input as { id?: string }).id;
  const doc = await app.store.write((draft) => {
    const id = requested ?? newId(spec.idPrefix);
    if (list(draft, spec.collection).some((d) => d.id === id)) throw new AppError('ID_TAKEN', id);
    let built = spec.build(input, draft, { id, now: new Date().toISOString(), existing: undefined });
    if (extra) built = extra(built);
    list(draft, spec.collection).push(built);
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

  app.get(base, { schema: { tags, summary: `List ${spec.path}`, querystring: query, response: { 200: Type.Array(spec.output), ...errorResponses } } }, async (req) => {
    const data = app.store.read();
    const q = req.query as Record<string, string | undefined>;
    const docs = list(data as Data, spec.collection).filter((d) =>
      Object.entries(q).every(([k, v]) => v === undefined || (d as unknown as Record<string, unknown>)[k] === v),
    );
    return docs.map((d) => spec.present(d, data));
  });

  app.get(`${base}/:id`, { schema: { tags, summary: `Get one of ${spec.path}`, params: IdParams, response: { 200: spec.output, ...errorResponses } } }, async (req) => {
    const data = app.store.read();
    return spec.present(find(data, (req.params as { id: string }).id), data);
  });

  if (!spec.skip?.includes('create')) {
    app.post(base, { schema: { tags, summary: `Create one of ${spec.path}`, body: spec.input, response: { 201: spec.output, ...errorResponses } } }, async (req, reply) => {
      const doc = await createDoc(app, spec, req.body as Static<I>);
      return reply.status(201).send(spec.present(doc, app.store.read()));
    });
  }

  if (!spec.skip?.includes('update')) {
    app.put(
      `${base}/:id`,
      { schema: { tags, summary: `Replace one of ${spec.path}`, params: IdParams, body: spec.input, response: { 200: spec.output, ...errorResponses } } },
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
          const built = spec.build(body, draft, { id, now: new Date().toISOString(), existing });
          docs[i] = built;
          return [existing, built] as const;
        });
        await app.realtime.publish(spec.change(before, after));
        return spec.present(after, app.store.read());
      },
    );
  }

  if (!spec.skip?.includes('delete')) {
    app.delete(
      `${base}/:id`,
      { schema: { tags, summary: `Delete one of ${spec.path}`, params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
      async (req, reply) => {
        const id = (req.params as { id: string }).id;
        const before = await app.store.write((draft) => {
          const docs = list(draft, spec.collection);
          const i = docs.findIndex((d) => d.id === id);
          const existing = docs[i];
          if (!existing) throw new AppError('NOT_FOUND', `${spec.path}/${id}`);
          spec.checkDelete(draft, id);
          docs.splice(i, 1);
          return existing;
        });
        await app.realtime.publish(spec.change(before, undefined));
        return reply.status(204).send(null);
      },
    );
  }
}
