import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ALERT_STATUSES, AlertInputSchema, AlertSchema, DeliverySchema, IdSchema, alertStatus, type Alert } from '../../content/index.js';
import { AppError } from '../errors.js';
import { actorOf, assertAllowed, principalOf, readableZones } from '../plugins/auth.js';
import { boardDenial } from '../services/alerts.js';
import { IdParams, errorResponses } from './crud.js';

const tags = ['alerts 紧急插播'];
const send = { auth: { permission: 'alert:send' } } as const;
const read = { auth: { permission: 'read' } } as const;

const AlertListQuerySchema = Type.Object(
  {
    status: Type.Optional(Type.Enum(ALERT_STATUSES, { description: 'Only alerts in this state now, by the server’s clock' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);

/** The delivery board of one alert: each target screen with its state and times. */
const AlertBoardSchema = Type.Object(
  {
    alertId: IdSchema,
    revision: Type.Integer({ minimum: 1, description: 'The revision the states refer to; an amendment starts every screen over' }),
    status: Type.Enum(ALERT_STATUSES),
    deliveries: Type.Array(DeliverySchema),
  },
  { additionalProperties: false },
);

/** Urgent alerts (紧急插播): compose, amend, clear, list, and the delivery board. */
export default async function alertRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();

  /** The alert, or NOT_FOUND. */
  const find = (id: string): Alert => {
    const alert = app.store.read().alerts.find((a) => a.id === id);
    if (!alert) throw new AppError('NOT_FOUND', `alerts/${id}`);
    return alert;
  };

  /**
   * Every target must lie in the caller's subtree: a town beyond it is not theirs to alert. New
   * targets must exist; a sent alert's zone that was deleted since does not block its all clear.
   */
  const assertTargets = (req: FastifyRequest, zoneIds: readonly string[], sent = false) => {
    const data = app.store.read();
    for (const zoneId of zoneIds) {
      if (!data.zones.some((z) => z.id === zoneId)) {
        if (sent) continue;
        throw new AppError('REFERENCE_MISSING', `zones/${zoneId}`);
      }
      assertAllowed(req, data, 'alert:send', zoneId);
    }
  };

  /** Readable when the caller may read at least one target: screens there show it. */
  const assertReadable = (req: FastifyRequest, alert: Alert) => {
    const canRead = readableZones(req, app.store.read());
    if (!alert.targetZoneIds.some(canRead)) throw new AppError('FORBIDDEN_SCOPE', `alert ${alert.id}`);
  };

  app.post(
    '/api/alerts',
    {
      config: send,
      schema: {
        tags,
        summary: 'Send an urgent alert to the screens of the target zones’ subtrees, at once',
        body: AlertInputSchema,
        response: { 201: AlertSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      assertTargets(req, req.body.targetZoneIds);
      const alert = await app.alerts.create(req.body, { actor: actorOf(req), source: 'composer', capRef: null });
      return reply.status(201).send(alert);
    },
  );

  app.get(
    '/api/alerts',
    {
      config: read,
      schema: {
        tags,
        summary: 'Alerts aimed at zones the caller may read, newest first',
        querystring: AlertListQuerySchema,
        response: { 200: Type.Array(AlertSchema), ...errorResponses },
      },
    },
    async (req) => {
      const data = app.store.read();
      const canRead = readableZones(req, data);
      const now = Date.now();
      const { status, limit = 100 } = req.query;
      return data.alerts
        .filter((a) => a.targetZoneIds.some(canRead) && (status === undefined || alertStatus(a, now) === status))
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
        .slice(0, limit);
    },
  );

  app.get(
    '/api/alerts/:id',
    { config: read, schema: { tags, summary: 'One alert', params: IdParams, response: { 200: AlertSchema, ...errorResponses } } },
    async (req) => {
      const alert = find(req.params.id);
      assertReadable(req, alert);
      return alert;
    },
  );

  app.get(
    '/api/alerts/:id/deliveries',
    {
      config: read,
      schema: {
        tags,
        summary: 'The delivery board: each target screen as pending, delivered, displayed or unreachable, with times (live: the alerts:watch socket event)',
        params: IdParams,
        response: { 200: AlertBoardSchema, ...errorResponses },
      },
    },
    async (req) => {
      const data = app.store.read();
      const alert = data.alerts.find((a) => a.id === req.params.id);
      // The same rule as the socket's alerts:watch: for those who act in a target zone.
      const why = boardDenial(principalOf(req).user, alert, data);
      if (why) throw new AppError(why, `alerts/${req.params.id}`);
      const a = alert as Alert;
      return { alertId: a.id, revision: a.revision, status: alertStatus(a, Date.now()), deliveries: app.alerts.deliveries(a.id) };
    },
  );

  app.post(
    '/api/alerts/:id/amend',
    {
      config: send,
      schema: {
        tags,
        summary: 'Amend an active alert: a new revision replaces what the screens show, with its time to live counted from now',
        params: IdParams,
        body: AlertInputSchema,
        response: { 200: AlertSchema, ...errorResponses },
      },
    },
    async (req) => {
      // The caller must hold both the zones it was aimed at and those it will be.
      assertTargets(req, find(req.params.id).targetZoneIds, true);
      assertTargets(req, req.body.targetZoneIds);
      return app.alerts.amend(req.params.id, req.body, actorOf(req));
    },
  );

  app.post(
    '/api/alerts/:id/clear',
    {
      config: send,
      schema: { tags, summary: 'The all clear: screens stop showing the alert', params: IdParams, response: { 200: AlertSchema, ...errorResponses } },
    },
    async (req) => {
      assertTargets(req, find(req.params.id).targetZoneIds, true);
      return app.alerts.clear(req.params.id, actorOf(req));
    },
  );
}
