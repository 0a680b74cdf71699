import { Type, type Static } from 'typebox';
import { DaypartSchema, IdSchema } from './common.js';
import { SCREEN_COMMANDS } from './realtime.js';

const screenFields = {
  zoneId: IdSchema,
  name: Type.String({ minLength: 1, maxLength: 60 }),
  width: Type.Integer({ minimum: 16, maximum: 16384, description: 'LED wall width in pixels' }),
  height: Type.Integer({ minimum: 16, maximum: 16384, description: 'LED wall height in pixels' }),
  pixelPitchMm: Type.Number({ exclusiveMinimum: 0, maximum: 50, description: 'LED pixel pitch in millimetres' }),
  viewingDistanceM: Type.Number({ exclusiveMinimum: 0, maximum: 500, description: 'Typical viewing distance in metres' }),
  openingHours: Type.Array(DaypartSchema, { maxItems: 28, description: 'Empty means always open' }),
  layoutId: Type.Union([IdSchema, Type.Null()]),
};

export const ScreenInputSchema = Type.Object({ id: Type.Optional(IdSchema), ...screenFields }, { additionalProperties: false });
export const ScreenSchema = Type.Object(
  {
    id: IdSchema,
    ...screenFields,
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { additionalProperties: false },
);
export type ScreenInput = Static<typeof ScreenInputSchema>;
export type Screen = Static<typeof ScreenSchema>;

/** How long a pairing code shown on a fresh player stays valid, and its shape. */
export const PAIRING_POLICY = { codeTtlMs: 30 * 60_000, digits: 6 } as const;

/** A player waiting to be paired, as staff see it before claiming its code. */
export const PairingSchema = Type.Object(
  {
    code: Type.String(),
    createdAt: Type.String(),
    expiresAt: Type.String(),
    viewport: Type.Union([Type.Object({ width: Type.Integer(), height: Type.Integer() }), Type.Null()], {
      description: 'The player window size in device pixels, to prefill the screen size',
    }),
  },
  { additionalProperties: false },
);
export type Pairing = Static<typeof PairingSchema>;

/** Claim a pairing code: either create a new screen from `screen`, or re-pair `screenId`. */
export const PairingClaimSchema = Type.Object(
  {
    code: Type.String({ pattern: '^[0-9]{6}$' }),
    screen: Type.Optional(ScreenInputSchema),
    screenId: Type.Optional(IdSchema),
  },
  { additionalProperties: false },
);
export type PairingClaim = Static<typeof PairingClaimSchema>;

/** `POST /api/screens/:id/commands`: what to ask the screen's player to do. */
export const ScreenCommandInputSchema = Type.Object(
  { command: Type.Enum(SCREEN_COMMANDS, { description: 'identify: show the screen’s name large for a while; reload: reload the player page' }) },
  { additionalProperties: false },
);
export type ScreenCommandInput = Static<typeof ScreenCommandInputSchema>;

/** The answer: how many of the screen's connected players got the command (0: the screen is offline). */
export const ScreenCommandResultSchema = Type.Object({ delivered: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
export type ScreenCommandResult = Static<typeof ScreenCommandResultSchema>;
