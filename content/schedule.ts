import { Type, type Static } from 'typebox';
import { DaypartSchema, IdSchema, InstantSchema } from './common.js';

const scheduleFields = {
  zoneId: IdSchema,
  name: Type.String({ minLength: 1, maxLength: 60 }),
  validFrom: Type.Union([InstantSchema, Type.Null()]),
  validTo: Type.Union([InstantSchema, Type.Null()]),
  dayparts: Type.Array(DaypartSchema, { maxItems: 28, description: 'Empty means every hour of every day' }),
  priority: Type.Integer({ minimum: 0, maximum: 100, description: 'Only the highest active priority in a region shows' }),
  weight: Type.Integer({ minimum: 1, maximum: 100, description: 'Share of the rotation among equal priorities' }),
};

export const ScheduleInputSchema = Type.Object({ id: Type.Optional(IdSchema), ...scheduleFields }, { additionalProperties: false });
export const ScheduleSchema = Type.Object(
  { id: IdSchema, ...scheduleFields, createdAt: Type.String(), updatedAt: Type.String() },
  { additionalProperties: false },
);
export type ScheduleInput = Static<typeof ScheduleInputSchema>;
export type Schedule = Static<typeof ScheduleSchema>;
