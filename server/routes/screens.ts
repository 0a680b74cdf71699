import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  ManifestSchema,
  ScreenCommandInputSchema,
  ScreenCommandResultSchema,
  ScreenInputSchema,
  ScreenSchema,
  isCityLevel,
  resolveRegions,
  rooms,
  zoneName,
  type Screen,
  type ScreenCommand,
} from '../../content/index.js';
import { AppError } from '../errors.js';
import { actorOf, assertAllowed, principalOf } from '../plugins/auth.js';
import { recordAudit } from '../services/audit.js';
import { hashToken } from '../services/realtime.js';
import { newDeviceToken } from '../services/pairing.js';
import type { Data, StoredScreen } from '../services/store.js';
import { checkDayparts, checkRef } from './checks.js';
import { IdParams, createDoc, errorResponses, registerCrud, type CrudSpec } from './crud.js';


const CreatedScreenSchema = Type.Object({
  screen: ScreenSchema,
  deviceToken: Type.String({ description: 'Shown once; the server keeps only its hash' }),
});

/** The locked regions a screen on `layoutId` shows (its own and those inherited from a base). */
function lockedRegionsOf(draft: Data, layoutId: string | null) {
  const layout = layoutId ? draft.layouts.find((l) => l.id === layoutId) : undefined;
  if (!layout) return [];
  const base = layout.baseLayoutId ? draft.layouts.find((l) => l.id === layout.baseLayoutId) : undefined;
  return resolveRegions(layout, base).filter((r) => r.locked);
}

/** Screens: LED walls with their size, pitch, viewing distance, opening hours and layout. */
export default async function screenRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  const present = ({ tokenHash: _omit, ...screen }: StoredScreen): Screen => screen;
  const spec: CrudSpec<'screens', typeof ScreenInputSchema, typeof ScreenSchema> = {
    path: 'screens',
    tag: 'screens 屏幕',
    collection: 'screens',
    idPrefix: 'scr',
    entity: 'screen',
    // Editors set up their screens; issuing and revoking device tokens (creating, deleting) is for city admins.
    permission: { create: 'screen:pair', update: 'screen:write', delete: 'screen:pair' },
    zoneOf: (s) => s.zoneId,
    input: ScreenInputSchema,
    output: ScreenSchema,
    filters: ['zoneId', 'layoutId'],
    skip: ['create'],
    build(input, draft, { id, now, existing, req }) {
      checkRef(draft, 'zones', input.zoneId);
      checkRef(draft, 'layouts', input.layoutId);
      // A lower tier may give its screen another layout, but not one that drops the city's locked regions.
      if (existing && existing.layoutId !== input.layoutId && !isCityLevel(principalOf(req).user, new Map(draft.zones.map((z) => [z.id, z])))) {
        const next = new Set(lockedRegionsOf(draft, input.layoutId).map((r) => `${r.id}@${r.playlistId ?? ''}`));
        const dropped = lockedRegionsOf(draft, existing.layoutId).filter((r) => !next.has(`${r.id}@${r.playlistId ?? ''}`));
        if (dropped.length > 0) throw new AppError('REGION_LOCKED', `the new layout drops the locked region(s) ${dropped.map((r) => r.id).join(', ')}`);
      }
      checkDayparts(input.openingHours);
      return { ...input, id, tokenHash: existing?.tokenHash ?? '', createdAt: existing?.createdAt ?? now, updatedAt: now };
    },
    checkDelete: () => undefined,
    present,
    change: (before, after) => ({ entity: 'screen', before, after }),
  };
  registerCrud(app, spec);

  /** Throws unless the screen exists and the caller may read its zone. */
  const screenInScope = (req: FastifyRequest, id: string) => {
    const data = app.store.read();
    const screen = data.screens.find((s) => s.id === id);
    if (!screen) throw new AppError('NOT_FOUND', `screens/${id}`);
    assertAllowed(req, data, 'read', screen.zoneId);
  };

  app.post(
    '/api/screens',
    { config: { auth: { permission: 'screen:pair' } }, schema: { tags: [spec.tag], summary: 'Create a screen and issue its device token', body: ScreenInputSchema, response: { 201: CreatedScreenSchema, ...errorResponses } } },
    async (req, reply) => {
      const token = newDeviceToken();
      const doc = await createDoc(app, req, spec, req.body, (d) => ({ ...d, tokenHash: hashToken(token) }));
      return reply.status(201).send({ screen: present(doc), deviceToken: token });
    },
  );

  app.post(
    '/api/screens/:id/token',
    { config: { auth: { permission: 'screen:pair' } }, schema: { tags: [spec.tag], summary: 'Issue a new device token; the old one stops working', params: IdParams, response: { 200: CreatedScreenSchema, ...errorResponses } } },
    async (req) => {
      const token = newDeviceToken();
      const doc = await app.store.write((d) => {
        const s = d.screens.find((x) => x.id === req.params.id);
        if (!s) throw new AppError('NOT_FOUND', `screens/${req.params.id}`);
        assertAllowed(req, d, 'screen:pair', s.zoneId);
        s.tokenHash = hashToken(token);
        s.updatedAt = new Date().toISOString();
        recordAudit(d, { actor: actorOf(req), action: 'screen.token', entity: 'screen', entityId: s.id, zoneId: s.zoneId, detail: 'new device token issued; the old one stops working' });
        return s;
      });
      app.realtime.revokeScreen(doc.id);
      return { screen: present(doc), deviceToken: token };
    },
  );

  app.get(
    '/api/screens/:id/manifest',
    { config: { auth: { permission: 'read' } }, schema: { tags: [spec.tag], summary: 'The manifest the screen plays now', params: IdParams, response: { 200: ManifestSchema, ...errorResponses } } },
    async (req) => {
      screenInScope(req, req.params.id);
      return app.manifests.resolve(req.params.id);
    },
  );

  app.get(
    '/api/screens/:id/reports',
    {
      config: { auth: { permission: 'read' } },
      schema: {
        tags: [spec.tag],
        summary: 'Recent reports from the screen’s player (assets it could not get, manifests it cannot read)',
        params: IdParams,
        response: { 200: Type.Array(Type.Object({ at: Type.Number(), report: Type.Unknown() })), ...errorResponses },
      },
    },
    async (req) => {
      screenInScope(req, req.params.id);
      return app.realtime.reportsOf(req.params.id).map((r) => ({ at: r.at, report: r.report as unknown }));
    },
  );

  app.post(
    '/api/screens/:id/commands',
    {
      config: { auth: { permission: 'screen:write' } },
      schema: {
        tags: [spec.tag],
        summary: 'Ask the screen’s player to identify itself (its name shown large for a while) or to reload; answers how many connected players got it (0: offline)',
        params: IdParams,
        body: ScreenCommandInputSchema,
        response: { 200: ScreenCommandResultSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { command } = req.body;
      const sent: ScreenCommand = await app.store.write((d) => {
        const s = d.screens.find((x) => x.id === req.params.id);
        if (!s) throw new AppError('NOT_FOUND', `screens/${req.params.id}`);
        assertAllowed(req, d, 'screen:write', s.zoneId);
        const byId = new Map(d.zones.map((z) => [z.id, z]));
        const zone = byId.get(s.zoneId);
        recordAudit(d, { actor: actorOf(req), action: `screen.${command}`, entity: 'screen', entityId: s.id, zoneId: s.zoneId, detail: `remote ${command}` });
        return { command, issuedAt: Date.now(), screenId: s.id, screenName: s.name, zoneId: s.zoneId, zoneName: zone ? zoneName(zone, byId, app.config.naming) : s.zoneId };
      });
      const room = rooms.screen(sent.screenId);
      // Counted from the room, not from a registry of our own: only sockets of this screen join it.
      const delivered = (await app.realtime.io.in(room).fetchSockets()).length;
      app.realtime.io.to(room).emit('screen:command', sent);
      return { delivered };
    },
  );

  app.addHook('onResponse', async (req, reply) => {
    // A deleted screen's player is told nothing more and is disconnected.
    if (req.method === 'DELETE' && reply.statusCode === 204 && req.routeOptions.url === '/api/screens/:id') {
      const { id } = req.params as { id: string };
      app.realtime.revokeScreen(id);
    }
  });
}
