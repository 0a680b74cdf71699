import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import {
  ContentInputSchema,
  DaypartSchema,
  IdSchema,
  InstantSchema,
  LayoutInputSchema,
  ManifestSchema,
  candidateWindow,
  checkDerivedLayout,
  checkLayout,
  instant,
  normalizeLayout,
  type ContentItem,
  type Layout,
} from '../../content/index.js';
import { AppError } from '../errors.js';
import { assertAllowed } from '../plugins/auth.js';
import { PREVIEW_ID, type PreviewSpec } from '../services/manifests.js';
import { errorResponses } from './crud.js';

/** A screen that does not exist yet (or a size to try), described by what a manifest needs of it. */
const ScreenShapeSchema = Type.Object(
  {
    zoneId: IdSchema,
    width: Type.Integer({ minimum: 16, maximum: 16384 }),
    height: Type.Integer({ minimum: 16, maximum: 16384 }),
    pixelPitchMm: Type.Number({ exclusiveMinimum: 0, maximum: 50 }),
    viewingDistanceM: Type.Number({ exclusiveMinimum: 0, maximum: 500 }),
    openingHours: Type.Optional(Type.Array(DaypartSchema, { maxItems: 28 })),
    name: Type.Optional(Type.String({ maxLength: 60 })),
  },
  { additionalProperties: false },
);

export const PreviewRequestSchema = Type.Object(
  {
    screenId: Type.Optional(IdSchema),
    screen: Type.Optional(ScreenShapeSchema),
    layout: Type.Optional(LayoutInputSchema),
    content: Type.Optional(ContentInputSchema),
    at: Type.Optional(InstantSchema),
  },
  {
    additionalProperties: false,
    description:
      'A stored screen (screenId) or one described (screen); a draft layout the screen shows instead of its own, or a draft item shown alone on the whole screen. With a layout and no screen, the screen is the layout’s size in its zone.',
  },
);

export const PreviewResponseSchema = Type.Object(
  {
    manifest: ManifestSchema,
    at: Type.Number({ description: 'The instant to draw (epoch ms): the one asked for, or now, moved inside a draft item’s validity' }),
  },
  { additionalProperties: false },
);

/**
 * Previews: the manifest a screen would get for a layout or an item being edited, built by the
 * same functions as the players' manifests, so the composer draws it with the player's renderer.
 * Nothing is stored; the caller needs to read every zone involved.
 */
export default async function previewRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/preview',
    {
      config: { auth: { permission: 'read' } },
      schema: {
        tags: ['screens 屏幕'],
        summary: 'The manifest a screen would play with a draft layout or a draft item (nothing is saved)',
        body: PreviewRequestSchema,
        response: { 200: PreviewResponseSchema, ...errorResponses },
      },
    },
    async (req) => {
      const body = req.body;
      const data = app.store.read();
      const zones = new Map(data.zones.map((z) => [z.id, z]));
      let at = body.at === undefined ? Date.now() : instant(body.at);
      if (!Number.isFinite(at)) throw new AppError('VALIDATION_FAILED', `bad instant ${body.at ?? ''}`);

      let layout: Layout | undefined;
      if (body.layout) {
        const problem = checkLayout(body.layout);
        if (problem) throw new AppError(problem);
        if (!zones.has(body.layout.zoneId)) throw new AppError('REFERENCE_MISSING', `zones/${body.layout.zoneId}`);
        assertAllowed(req, data, 'read', body.layout.zoneId);
        const stamp = new Date().toISOString();
        layout = { ...normalizeLayout(body.layout), id: body.layout.id ?? PREVIEW_ID, createdAt: stamp, updatedAt: stamp };
        const base = layout.baseLayoutId ? data.layouts.find((l) => l.id === layout?.baseLayoutId) : undefined;
        if (layout.baseLayoutId && !base) throw new AppError('REFERENCE_MISSING', `layouts/${layout.baseLayoutId}`);
        if (base) {
          const p = checkDerivedLayout(layout, base, zones);
          if (p) throw new AppError(p.code, p.detail);
        }
      }

      let screen: PreviewSpec['screen'];
      if (body.screenId !== undefined) {
        const stored = data.screens.find((s) => s.id === body.screenId);
        if (!stored) throw new AppError('NOT_FOUND', `screens/${body.screenId}`);
        assertAllowed(req, data, 'read', stored.zoneId);
        screen = stored;
      } else if (body.screen) {
        if (!zones.has(body.screen.zoneId)) throw new AppError('REFERENCE_MISSING', `zones/${body.screen.zoneId}`);
        assertAllowed(req, data, 'read', body.screen.zoneId);
        const { openingHours, name, ...shape } = body.screen;
        screen = { ...shape, name: name ?? '', openingHours: openingHours ?? [], layoutId: null };
      } else if (layout) {
        // The layout's own canvas, with a mid-range pitch and distance for legibility.
        screen = { zoneId: layout.zoneId, name: layout.name, width: layout.width, height: layout.height, pixelPitchMm: 4, viewingDistanceM: 8, openingHours: [], layoutId: layout.id };
      } else {
        throw new AppError('VALIDATION_FAILED', 'give screenId or screen (or a layout)');
      }
      // A layout is drawn at its own size; a screen of another size would scale nothing.
      if (layout && (layout.width !== screen.width || layout.height !== screen.height)) screen = { ...screen, width: layout.width, height: layout.height };

      let content: ContentItem | undefined;
      if (body.content) {
        if (!zones.has(body.content.zoneId)) throw new AppError('REFERENCE_MISSING', `zones/${body.content.zoneId}`);
        assertAllowed(req, data, 'read', body.content.zoneId);
        const stamp = new Date().toISOString();
        const existing = body.content.id ? data.content.find((c) => c.id === body.content?.id) : undefined;
        content = { ...body.content, id: body.content.id ?? PREVIEW_ID, createdAt: existing?.createdAt ?? stamp, updatedAt: stamp } as ContentItem;
        // Draw the item when it shows: inside its validity (and a notice's publicity period).
        const win = candidateWindow(content, undefined);
        if (win.from !== null && at < win.from) at = win.from;
        if (win.to !== null && at >= win.to) at = Math.max(win.from ?? Number.NEGATIVE_INFINITY, win.to - 1000);
      }

      const manifest = await app.manifests.preview({ screen, ...(layout ? { layout } : {}), ...(content ? { content } : {}) }, at);
      return { manifest, at };
    },
  );
}
