import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { PairingClaimSchema, PairingSchema, ScreenSchema, rooms, type Screen } from '../../content/index.js';
import { AppError } from '../errors.js';
import { actorOf, assertAllowed, principalOf } from '../plugins/auth.js';
import { recordAudit } from '../services/audit.js';
import { hashSecret, newDeviceToken } from '../services/pairing.js';
import type { StoredScreen } from '../services/store.js';
import { checkDayparts, checkRef } from './checks.js';
import { IdParams, errorResponses, newId } from './crud.js';

const tags = ['screens 屏幕'];
const pair = { auth: { permission: 'screen:pair' } } as const;
const present = ({ tokenHash: _omit, ...screen }: StoredScreen): Screen => screen;

/** Pairing fresh players into zones, and revoking screens' device tokens. */
export default async function pairingRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/api/pairings', { config: pair, schema: { tags, summary: 'Players waiting to be paired, with their codes', response: { 200: Type.Array(PairingSchema), ...errorResponses } } }, async () => {
    const now = Date.now();
    return app.store
      .read()
      .pairings.filter((p) => !p.claimedAt && Date.parse(p.expiresAt) > now)
      .map(({ code, createdAt, expiresAt, viewport }) => ({ code, createdAt, expiresAt, viewport }));
  });

  app.post(
    '/api/pairing/claim',
    {
      config: pair,
      schema: {
        tags,
        summary: 'Claim the code a player shows: create a screen in a zone (or re-pair one); the player gets its token over the socket',
        body: PairingClaimSchema,
        response: { 201: Type.Object({ screen: ScreenSchema }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const { code, screen: input, screenId } = req.body;
      if ((input === undefined) === (screenId === undefined)) throw new AppError('VALIDATION_FAILED', 'send either screen (a new screen) or screenId (re-pair)');
      const deviceToken = newDeviceToken();
      const { screen, pairingId } = await app.store.write((draft) => {
        const now = Date.now();
        const pairing = draft.pairings.find((p) => p.code === code && !p.claimedAt && Date.parse(p.expiresAt) > now);
        if (!pairing) throw new AppError('PAIRING_CODE_INVALID');
        const iso = new Date(now).toISOString();
        let doc: StoredScreen;
        let before: StoredScreen | undefined;
        if (input) {
          assertAllowed(req, draft, 'screen:pair', input.zoneId);
          checkRef(draft, 'zones', input.zoneId);
          checkRef(draft, 'layouts', input.layoutId);
          checkDayparts(input.openingHours);
          const id = input.id ?? newId('scr');
          if (draft.screens.some((s) => s.id === id)) throw new AppError('ID_TAKEN', id);
          doc = { ...input, id, tokenHash: hashSecret(deviceToken), createdAt: iso, updatedAt: iso };
          draft.screens.push(doc);
        } else {
          const existing = draft.screens.find((s) => s.id === screenId);
          if (!existing) throw new AppError('NOT_FOUND', `screens/${screenId}`);
          assertAllowed(req, draft, 'screen:pair', existing.zoneId);
          before = { ...existing };
          existing.tokenHash = hashSecret(deviceToken);
          existing.updatedAt = iso;
          doc = existing;
        }
        pairing.claimedScreenId = doc.id;
        pairing.claimedAt = iso;
        pairing.claimedBy = principalOf(req).user.id;
        recordAudit(draft, { actor: actorOf(req), action: 'screen.pair', entity: 'screen', entityId: doc.id, zoneId: doc.zoneId, before, after: doc, detail: `code ${code}` });
        return { screen: doc, pairingId: pairing.id };
      });
      // A re-paired screen's old player stops; the new one gets the token now, or on reconnect.
      if (screenId) app.realtime.revokeScreen(screen.id);
      app.realtime.io.to(rooms.pairing(pairingId)).emit('pairing:claimed', { screenId: screen.id, deviceToken });
      await app.realtime.publish({ entity: 'screen', before: undefined, after: screen });
      return reply.status(201).send({ screen: present(screen) });
    },
  );

  app.post(
    '/api/screens/:id/revoke',
    { config: pair, schema: { tags, summary: 'Revoke the screen’s device token: its player returns to the pairing screen', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await app.store.write((draft) => {
        const s = draft.screens.find((x) => x.id === req.params.id);
        if (!s) throw new AppError('NOT_FOUND', `screens/${req.params.id}`);
        assertAllowed(req, draft, 'screen:pair', s.zoneId);
        s.tokenHash = '';
        s.updatedAt = new Date().toISOString();
        recordAudit(draft, { actor: actorOf(req), action: 'screen.revoke', entity: 'screen', entityId: s.id, zoneId: s.zoneId });
      });
      app.realtime.revokeScreen(req.params.id);
      return reply.status(204).send(null);
    },
  );
}
