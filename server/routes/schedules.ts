import type { FastifyInstance } from 'fastify';
import { ScheduleInputSchema, ScheduleSchema, type Schedule } from '../../content/index.js';
import { AppError } from '../errors.js';
import { checkDayparts, checkRef, checkWindow } from './checks.js';
import { registerCrud } from './crud.js';

/** Schedules: validity, weekday × time dayparts, priority and weight. */
export default async function scheduleRoutes(app: FastifyInstance): Promise<void> {
  registerCrud(app, {
    path: 'schedules',
    tag: 'schedules 排期',
    collection: 'schedules',
    idPrefix: 'sch',
    entity: 'schedule',
    permission: 'schedule:write',
    zoneOf: (s) => s.zoneId,
    input: ScheduleInputSchema,
    output: ScheduleSchema,
    build(input, draft, { id, now, existing }) {
      checkRef(draft, 'zones', input.zoneId);
      checkWindow(input.validFrom, input.validTo);
      checkDayparts(input.dayparts);
      const doc: Schedule = { ...input, id, createdAt: existing?.createdAt ?? now, updatedAt: now };
      return doc;
    },
    checkDelete(draft, id) {
      if (draft.playlists.some((p) => p.scheduleId === id || p.entries.some((e) => e.scheduleId === id))) throw new AppError('IN_USE', 'a playlist uses this schedule');
    },
    present: (doc) => doc,
    change: (before, after) => ({ entity: 'schedule', id: after?.id ?? before?.id ?? '' }),
  });
}
