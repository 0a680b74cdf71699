import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { errorBody, type ErrorCode } from '../../content/index.js';
import { AppError } from '../errors.js';

function codeFor(err: FastifyError): ErrorCode {
  if (err.validation) return 'VALIDATION_FAILED';
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'BAD_JSON';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'PAYLOAD_TOO_LARGE';
    case 'FST_REQ_FILE_TOO_LARGE':
      return 'MEDIA_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return 'UNSUPPORTED_CONTENT_TYPE';
  }
  if (err instanceof SyntaxError) return 'BAD_JSON';
  const status = err.statusCode ?? 500;
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_CONTENT_TYPE';
  if (status === 404) return 'NOT_FOUND';
  if (status >= 400 && status < 500) return 'VALIDATION_FAILED';
  return 'INTERNAL';
}

/** Every error leaves as { ok: false, code, message: { zh, en } } with its HTTP status. */
export default fp(
  async function errorsPlugin(app: FastifyInstance) {
    app.setErrorHandler((err: FastifyError, request, reply) => {
      if (err instanceof AppError) {
        if (err.status >= 500) request.log.error({ err }, 'request failed');
        return reply.status(err.status).send(errorBody(err.code, err.detail));
      }
      const code = codeFor(err);
      const status = code === 'INTERNAL' ? 500 : code === 'VALIDATION_FAILED' || code === 'BAD_JSON' ? 400 : (err.statusCode ?? 400);
      if (status >= 500) {
        request.log.error({ err }, 'request failed');
        return reply.status(500).send(errorBody('INTERNAL'));
      }
      return reply.status(status).send(errorBody(code, err.message));
    });
    app.setNotFoundHandler((request, reply) => {
      reply.status(404).send(errorBody('ROUTE_NOT_FOUND', `${request.method} ${request.url}`));
    });
  },
  { name: 'zonecast-errors' },
);
