import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AlertSchema, ErrorBodySchema, alertStatus, type Alert, type AlertInput } from '../../content/index.js';
import { AppError } from '../errors.js';
import { actorOf, assertAllowed } from '../plugins/auth.js';
import { CAP_BODY_LIMIT, capAlertInput, decodeCapBody, parseCap, preferredInfo, type CapMessage } from '../services/cap.js';
import { errorResponses } from './crud.js';

const tags = ['alerts 紧急插播'];
const CAP_CONTENT_TYPES = ['application/cap+xml', 'application/xml', 'text/xml'];

/**
 * What a CAP message did: `created` a broadcast (201); `amended` or `cleared` one (Update,
 * Cancel); `duplicate`, nothing to do (posted before, or the alert already ended); `ignored`,
 * a valid message whose status is not Actual (Test, Exercise, System, Draft), never shown (202).
 */
export const CapResultSchema = Type.Object(
  {
    action: Type.Enum(['created', 'amended', 'cleared', 'duplicate', 'ignored'] as const),
    alert: Type.Union([AlertSchema, Type.Null()]),
  },
  { additionalProperties: false },
);

const sameZones = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((z) => b.includes(z));

/**
 * True when an Update would change nothing on screens: the same content and targets, and the
 * same end when the message gives one (amend runs the time to live from now, to the minute).
 */
function unchanged(alert: Alert, input: AlertInput, expires: number | null): boolean {
  const sameEnd = expires === null || Math.abs(Date.parse(alert.expiresAt) - expires) <= 90_000;
  return alert.severity === input.severity && alert.title === input.title && alert.text === input.text && alert.mediaHash === input.mediaHash && sameZones(alert.targetZoneIds, input.targetZoneIds) && sameEnd;
}

/**
 * CAP 1.2 ingest: an early-warning system posts its XML with an API token of a city-level
 * account; Alert starts an urgent broadcast, Update amends it, Cancel clears it.
 */
export default async function capRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();

  // This plugin's scope reads XML only, as bytes (a sender may declare GB18030), size-capped.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(CAP_CONTENT_TYPES, { parseAs: 'buffer', bodyLimit: CAP_BODY_LIMIT }, (req, body, done) => {
    try {
      done(null, decodeCapBody(body as Buffer, req.headers['content-type']));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  /** The caller must be able to send alerts to every zone the alert reaches. */
  const assertZones = (req: FastifyRequest, zoneIds: readonly string[]) => {
    const data = app.store.read();
    for (const z of zoneIds) assertAllowed(req, data, 'alert:send', z);
  };

  /** For an ALERT_DUPLICATE of message `ref`: the alert that message started or amended; any other error is thrown on. */
  const duplicateOf = (err: unknown, ref: { sender: string; identifier: string }): Alert => {
    const first = err instanceof AppError && err.code === 'ALERT_DUPLICATE' ? app.alerts.findByCapRef(ref.sender, ref.identifier) : undefined;
    if (!first) throw err;
    return first;
  };

  /** The alert an Update or Cancel refers to: the latest of its references that started or amended one. */
  const referenced = (msg: CapMessage): Alert => {
    for (const ref of [...msg.references].reverse()) {
      const alert = app.alerts.findByCapRef(ref.sender, ref.identifier);
      if (alert) return alert;
    }
    throw new AppError('CAP_REFERENCE_UNKNOWN', msg.references.map((r) => `${r.sender},${r.identifier}`).join(' '));
  };

  app.post(
    '/api/cap',
    {
      config: { auth: { permission: 'alert:send' } },
      bodyLimit: CAP_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Ingest an OASIS CAP 1.2 alert (XML) from an early-warning system: Alert broadcasts, Update amends, Cancel clears',
        description:
          'Send `Content-Type: application/cap+xml` (or application/xml, text/xml) with `Authorization: Bearer zct_…`, an API token of a city-level editor. DOCTYPE and entity declarations are refused. See docs/alerts.md.',
        consumes: CAP_CONTENT_TYPES,
        body: Type.String({ description: 'A CAP 1.2 <alert> document' }),
        response: { 200: CapResultSchema, 201: CapResultSchema, 202: CapResultSchema, ...errorResponses, 413: ErrorBodySchema, 415: ErrorBodySchema },
      },
    },
    async (req, reply) => {
      const msg = parseCap(req.body);
      if (msg.scope !== 'Public') throw new AppError('CAP_NOT_PUBLIC', `scope ${msg.scope}`);
      if (msg.msgType === 'Ack' || msg.msgType === 'Error') throw new AppError('CAP_INVALID', `msgType ${msg.msgType} carries no alert to broadcast`);
      const now = Date.now();
      const input = msg.msgType === 'Cancel' ? null : capAlertInput(msg, app.store.read().zones, now);
      if (input) assertZones(req, input.targetZoneIds);
      // Checked in full, then left alone: "Test" and the like must never reach a screen.
      if (msg.status !== 'Actual') {
        req.log.info({ sender: msg.sender, identifier: msg.identifier, status: msg.status }, 'CAP message not broadcast');
        return reply.status(202).send({ action: 'ignored', alert: null });
      }
      const actor = actorOf(req);

      if (msg.msgType === 'Alert' && input) {
        const capRef = { sender: msg.sender, identifier: msg.identifier };
        const existing = app.alerts.findByCapRef(capRef.sender, capRef.identifier);
        if (existing) {
          assertZones(req, existing.targetZoneIds);
          return reply.status(200).send({ action: 'duplicate', alert: existing });
        }
        try {
          const alert = await app.alerts.create(input, { actor, source: 'cap', capRef });
          return reply.status(201).send({ action: 'created', alert });
        } catch (err) {
          // The same message posted twice at once: the second finds the first's alert.
          return reply.status(200).send({ action: 'duplicate', alert: duplicateOf(err, capRef) });
        }
      }

      const own = { sender: msg.sender, identifier: msg.identifier };
      // This Update again (it is linked to the alert it amended): nothing to do.
      const seen = msg.msgType === 'Update' ? app.alerts.findByCapRef(own.sender, own.identifier) : undefined;
      const target = seen ?? referenced(msg);
      assertZones(req, target.targetZoneIds);
      if (msg.msgType === 'Update' && input) {
        if (seen) return reply.status(200).send({ action: 'duplicate', alert: seen });
        if (unchanged(target, input, preferredInfo(msg)?.expires ?? null)) {
          // Nothing changes on screens, but the next message may name only this one.
          await app.alerts.linkCap(target.id, own);
          return reply.status(200).send({ action: 'duplicate', alert: target });
        }
        try {
          return reply.status(200).send({ action: 'amended', alert: await app.alerts.amend(target.id, input, actor, own) });
        } catch (err) {
          // The same Update posted twice at once: the second finds the first's amendment.
          return reply.status(200).send({ action: 'duplicate', alert: duplicateOf(err, own) });
        }
      }
      if (alertStatus(target, now) !== 'active') return reply.status(200).send({ action: 'duplicate', alert: target });
      try {
        return reply.status(200).send({ action: 'cleared', alert: await app.alerts.clear(target.id, actor) });
      } catch (err) {
        const after = app.store.read().alerts.find((a) => a.id === target.id);
        if (err instanceof AppError && err.code === 'ALERT_NOT_ACTIVE' && after && alertStatus(after, Date.now()) !== 'active') {
          return reply.status(200).send({ action: 'duplicate', alert: after });
        }
        throw err;
      }
    },
  );
}
