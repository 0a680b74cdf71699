import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { MEDIA_LIMITS, MediaSchema, Sha256Schema } from '../../content/index.js';
import { AppError } from '../errors.js';
import { actorOf } from '../plugins/auth.js';
import { recordAudit } from '../services/audit.js';
import { mediaFileExists } from '../services/media.js';
import { errorResponses } from './crud.js';

const UploadedSchema = Type.Object({ media: MediaSchema, created: Type.Boolean({ description: 'False when the same bytes were already stored' }) });
const HashParams = Type.Object({ hash: Sha256Schema });
const FileParams = Type.Object({ hash: Sha256Schema, file: Type.String({ pattern: '^(original\\.[a-z0-9]{2,5}|\\d{1,5}x\\d{1,5}\\.webp)$' }) });

/** Upload, list and serve media. Files live at hash URLs and are cached as immutable. */
export default async function mediaRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  await app.register(fastifyStatic, { root: app.media.root, serve: false, decorateReply: true });
  const tags = ['media 媒体'];

  app.post(
    '/api/media',
    {
      config: { auth: { permission: 'media:write' } },
      schema: {
        tags,
        summary: `Upload one image (multipart field "file", at most ${MEDIA_LIMITS.maxBytes / 1024 / 1024} MiB, ${MEDIA_LIMITS.maxPixels / 1e6} MP)`,
        consumes: ['multipart/form-data'],
        response: { 200: UploadedSchema, 201: UploadedSchema, 413: errorResponses[400], 415: errorResponses[400], ...errorResponses },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart()) throw new AppError('UNSUPPORTED_CONTENT_TYPE', 'send multipart/form-data with a "file" field');
      const part = await req.file();
      if (!part) throw new AppError('MEDIA_MISSING_FILE');
      let buffer: Buffer;
      try {
        buffer = await part.toBuffer();
      } catch (e) {
        if ((e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw new AppError('MEDIA_TOO_LARGE', `over ${MEDIA_LIMITS.maxBytes} bytes`);
        throw e;
      }
      const result = await app.media.ingest(buffer, part.filename || 'upload');
      // Media has no zone of its own; the upload is still a change with an author.
      await app.store.write((draft) =>
        recordAudit(draft, { actor: actorOf(req), action: result.created ? 'media.upload' : 'media.upload-duplicate', entity: 'media', entityId: result.media.hash, zoneId: null, after: result.media }),
      );
      return reply.status(result.created ? 201 : 200).send(result);
    },
  );

  app.get('/api/media', { config: { auth: { permission: 'read' } }, schema: { tags, summary: 'List media', response: { 200: Type.Array(MediaSchema) } } }, async () => app.store.read().media);

  app.get('/api/media/:hash', { config: { auth: { permission: 'read' } }, schema: { tags, summary: 'One media record', params: HashParams, response: { 200: MediaSchema, ...errorResponses } } }, async (req) => {
    const m = app.store.read().media.find((x) => x.hash === req.params.hash);
    if (!m) throw new AppError('NOT_FOUND', `media/${req.params.hash}`);
    return m;
  });

  app.get('/media/:hash/:file', { config: { auth: 'public' }, schema: { tags, summary: 'A stored file, cached as immutable', params: FileParams } }, async (req, reply) => {
    const { hash, file } = req.params;
    if (!(await mediaFileExists(app.media.root, hash, file))) throw new AppError('NOT_FOUND', `media/${hash}/${file}`);
    return reply.header('cache-control', 'public, max-age=31536000, immutable').sendFile(`${hash}/${file}`, { cacheControl: false });
  });
}
