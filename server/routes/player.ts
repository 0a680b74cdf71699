import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ManifestSchema } from '../../content/index.js';
import { AppError } from '../errors.js';
import { hashToken } from '../services/realtime.js';
import { errorResponses } from './crud.js';

/** The screen that owns the bearer device token of a request. */
export function screenOf(app: FastifyInstance, req: FastifyRequest): string {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  const tokenHash = m?.[1] ? hashToken(m[1]) : null;
  const screen = tokenHash ? app.store.read().screens.find((s) => s.tokenHash === tokenHash) : undefined;
  if (!screen) throw new AppError('DEVICE_TOKEN_INVALID');
  return screen.id;
}

/** Routes players call with their device token, and the player page. */
export default async function playerRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/player/manifest',
    {
      config: { auth: 'device' },
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

  await serveBuiltApp(app, 'player', '播放端', 'The player', app.config.playerDir);
}

/**
 * Serves a built browser app (Vite, dist/<name>, or `dir` when given) at /<name>/. Hashed assets
 * are immutable; index.html is not cached, so an update is picked up on the next load.
 */
export async function serveBuiltApp(app: FastifyInstance, name: 'player' | 'composer', zh: string, en: string, dir: string | null = null): Promise<void> {
  const root = dir !== null ? (existsSync(path.join(dir, 'index.html')) ? dir : null) : appDist(name);
  if (dir !== null && root === null) app.log.warn({ dir }, `ZONECAST_PLAYER_DIR has no index.html: the ${name} is not served`);
  if (root) {
    await app.register(fastifyStatic, {
      root,
      prefix: `/${name}/`,
      decorateReply: false,
      index: ['index.html'],
      cacheControl: false,
      setHeaders(res, filePath) {
        res.header('cache-control', filePath.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  } else {
    app.get(`/${name}/`, { config: { auth: 'public' }, schema: { hide: true } }, async (_req, reply) =>
      reply
        .status(503)
        .type('text/html; charset=utf-8')
        .send(`<!doctype html><meta charset="utf-8"><title>ZoneCast</title><p>${zh}尚未构建,请运行 npm run build。${en} is not built yet: run npm run build.</p>`),
    );
  }
}

/** Where a built app is: dist/<name> beside the source tree, whether run from source or from dist/. */
export function appDist(name: string): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.resolve(here, `../../dist/${name}`), path.resolve(here, `../../${name}`)]) {
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
  }
  return null;
}
