import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ManifestSchema } from '../../content/index.js';
import { AppError } from '../errors.js';
import { hashToken } from '../services/realtime.js';
import { errorResponses } from './crud.js';

/** The screen that owns the bearer device token of a request. */
export function screenOf(app: FastifyInstance, req: FastifyRequest): string {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  const token = m?.[1];
  const screen = token ? app.store.read().screens.find((s) => s.tokenHash === hashToken(token)) : undefined;
  if (!screen) throw new AppError('DEVICE_TOKEN_INVALID');
  return screen.id;
}

/** Routes players call with their device token, and the player page. */
export default async function playerRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/player/manifest',
    {
      schema: {
        tags: ['player 播放端'],
        summary: 'The calling screen’s manifest',
        security: [{ deviceToken: [] }],
        response: { 200: ManifestSchema, 401: errorResponses[400] },
      },
    },
    async (req) => {
      const screenId = screenOf(app, req);
      const manifest = await app.manifests.resolve(screenId);
      app.realtime.noteDelivered(screenId, manifest.version);
      return manifest;
    },
  );

  // Placeholder until the player lands: it shows which screen the token belongs to.
  app.get('/player/', { schema: { hide: true, querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })) }) } }, async (req, reply) => {
    const token = req.query.token;
    const screen = token ? app.store.read().screens.find((s) => s.tokenHash === hashToken(token)) : undefined;
    const title = screen ? `${screen.name} · ${screen.width}×${screen.height}` : '未配对的屏幕 Unpaired screen';
    const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    return reply
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>ZoneCast 播放端</title>` +
          `<body style="background:#0b1f3a;color:#fff;font:24px sans-serif;display:grid;place-items:center;height:100vh;margin:0">` +
          `<main><h1>ZoneCast 播放端(占位页)</h1><p>${esc(title)}</p><p>播放器将在后续版本中提供。The player arrives in a later release.</p></main></body></html>`,
      );
  });
}
