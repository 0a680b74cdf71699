import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { DateSchema, ExplainSchema, InstantSchema, TimelineSchema, instant, localDate, localDayStart, screenTimeline } from '../../content/index.js';
import { AppError } from '../errors.js';
import { assertAllowed } from '../plugins/auth.js';
import { IdParams, errorResponses } from './crud.js';

/** The instant to explain, ISO-8601 with its offset; now when absent. */
const ExplainQuery = Type.Object(
  { at: Type.Optional(InstantSchema) },
  { additionalProperties: false },
);

/** The local day to draw, YYYY-MM-DD in the city's time zone; today when absent. */
const TimelineQuery = Type.Object({ date: Type.Optional(DateSchema) }, { additionalProperties: false });

/** Explain: what a screen shows at an instant, and why each item its playlists consider is in or out. */
export default async function explainRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/screens/:id/explain',
    {
      config: { auth: { permission: 'read' } },
      schema: {
        tags: ['screens 屏幕'],
        summary: 'What the screen shows at an instant (default now), and the reason each candidate item is in or out',
        params: IdParams,
        querystring: ExplainQuery,
        response: { 200: ExplainSchema, ...errorResponses },
      },
    },
    async (req) => {
      const data = app.store.read();
      const screen = data.screens.find((s) => s.id === req.params.id);
      if (!screen) throw new AppError('NOT_FOUND', `screens/${req.params.id}`);
      assertAllowed(req, data, 'read', screen.zoneId);
      const at = req.query.at === undefined ? Date.now() : instant(req.query.at);
      if (!Number.isFinite(at)) throw new AppError('VALIDATION_FAILED', `bad instant ${req.query.at ?? ''}`);
      return app.manifests.explain(screen.id, at);
    },
  );

  app.get(
    '/api/screens/:id/timeline',
    {
      config: { auth: { permission: 'read' } },
      schema: {
        tags: ['screens 屏幕'],
        summary: 'The screen’s day (default today, in the city’s time zone): opening hours, and per region the stretches in which the same items are in rotation, with each one’s share',
        params: IdParams,
        querystring: TimelineQuery,
        response: { 200: TimelineSchema, ...errorResponses },
      },
    },
    async (req) => {
      const data = app.store.read();
      const screen = data.screens.find((s) => s.id === req.params.id);
      if (!screen) throw new AppError('NOT_FOUND', `screens/${req.params.id}`);
      assertAllowed(req, data, 'read', screen.zoneId);
      const now = Date.now();
      const date = req.query.date ?? localDate(now, app.config.timeZone);
      const from = localDayStart(date, app.config.timeZone);
      if (!Number.isFinite(from)) throw new AppError('VALIDATION_FAILED', `bad date ${date}`);
      // Resolved as of the day's start (or now, for a day ahead), as explain resolves an instant:
      // an item whose window closes during the day is still on the day's earlier part.
      const manifest = await app.manifests.resolve(screen.id, Math.min(from, now));
      return screenTimeline(manifest, date);
    },
  );
}
