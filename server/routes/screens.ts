import { randomBytes } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ManifestSchema, ScreenInputSchema, ScreenSchema, rooms, type Screen } from '../../content/index.js';
import { AppError } from '../errors.js';
import { hashToken } from '../services/realtime.js';
import type { StoredScreen } from '../services/store.js';
import { checkDayparts, checkRef } from './checks.js';
import { IdParams, createDoc, errorResponses, registerCrud, type CrudSpec } from './crud.js';

/** A fresh device token: 32 random bytes, base64url. Only its hash is stored. */
export function newDeviceToken(): string {
  return randomBytes(32).toString('base64url');
}

const CreatedScreenSchema = Type.Object({
  screen: ScreenSchema,
  deviceToken: Type.String({ description: 'Shown once; the server keeps only its hash' }),
});

/** Screens: LED walls with their size, pitch, viewing distance, opening hours and layout. */
export default async function screenRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  const present = ({ tokenHash: _omit, ...screen }: StoredScreen): Screen => screen;
  const spec: CrudSpec<'screens', typeof ScreenInputSchema, typeof ScreenSchema> = {
    path: 'screens',
    tag: 'screens 屏幕',
    collection: 'screens',
    idPrefix: 'scr',
    input: ScreenInputSchema,
    output: ScreenSchema,
    filters: ['zoneId', 'layoutId'],
    skip: ['create'],
    build(input, draft, { id, now, existing }) {
      checkRef(draft, 'zones', input.zoneId);
      checkRef(draft, 'layouts', input.layoutId);
      checkDayparts(input.openingHours);
      return { ...input, id, tokenHash: existing?.tokenHash ?? '', createdAt: existing?.createdAt ?? now, updatedAt: now };
    },
    checkDelete: () => undefined,
    present,
    change: (before, after) => ({ entity: 'screen', before, after }),
  };
  registerCrud(app, spec);

  app.post(
    '/api/screens',
    { schema: { tags: [spec.tag], summary: 'Create a screen and issue its device token', body: ScreenInputSchema, response: { 201: CreatedScreenSchema, ...errorResponses } } },
    async (req, reply) => {
      const token = newDeviceToken();
      const doc = await createDoc(app, spec, req.body, (d) => ({ ...d, tokenHash: hashToken(token) }));
      return reply.status(201).send({ screen: present(doc), deviceToken: token });
    },
  );

  app.post(
    '/api/screens/:id/token',
    { schema: { tags: [spec.tag], summary: 'Issue a new device token; the old one stops working', params: IdParams, response: { 200: CreatedScreenSchema, ...errorResponses } } },
    async (req) => {
      const token = newDeviceToken();
      const doc = await app.store.write((d) => {
        const s = d.screens.find((x) => x.id === req.params.id);
        if (!s) throw new AppError('NOT_FOUND', `screens/${req.params.id}`);
        s.tokenHash = hashToken(token);
        s.updatedAt = new Date().toISOString();
        return s;
      });
      app.realtime.io.in(rooms.screen(doc.id)).disconnectSockets(true);
      return { screen: present(doc), deviceToken: token };
    },
  );

  app.get(
    '/api/screens/:id/manifest',
    { schema: { tags: [spec.tag], summary: 'The manifest the screen plays now', params: IdParams, response: { 200: ManifestSchema, ...errorResponses } } },
    async (req) => {
      if (!app.store.read().screens.some((s) => s.id === req.params.id)) throw new AppError('NOT_FOUND', `screens/${req.params.id}`);
      return app.manifests.resolve(req.params.id);
    },
  );

  app.get(
    '/api/screens/:id/reports',
    {
      schema: {
        tags: [spec.tag],
        summary: 'Recent reports from the screen’s player (assets it could not get, manifests it cannot read)',
        params: IdParams,
        response: { 200: Type.Array(Type.Object({ at: Type.Number(), report: Type.Unknown() })), ...errorResponses },
      },
    },
    async (req) => {
      if (!app.store.read().screens.some((s) => s.id === req.params.id)) throw new AppError('NOT_FOUND', `screens/${req.params.id}`);
      return app.realtime.reportsOf(req.params.id).map((r) => ({ at: r.at, report: r.report as unknown }));
    },
  );

  app.addHook('onResponse', async (req, reply) => {
    // A deleted screen's player is told nothing more and is disconnected.
    if (req.method === 'DELETE' && reply.statusCode === 204 && req.routeOptions.url === '/api/screens/:id') {
      const { id } = req.params as { id: string };
      app.realtime.io.in(rooms.screen(id)).disconnectSockets(true);
    }
  });
}
