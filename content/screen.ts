import { Type, type Static } from 'typebox';
import { DaypartSchema, IdSchema } from './common.js';

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
