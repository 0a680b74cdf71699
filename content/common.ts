import { Type, type Static } from 'typebox';

/** Entity ids: short, URL-safe, chosen by the server unless the client supplies one. */
export const IdSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'URL-safe id' });

/** An ISO-8601 instant with its offset, e.g. 2026-12-01T08:00:00+08:00. */
export const InstantSchema = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?(Z|[+-]\\d{2}:\\d{2})$',
  description: 'ISO-8601 instant with offset',
});

/** A calendar date, YYYY-MM-DD. */
export const DateSchema = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });

/** A local clock time HH:MM, 00:00 to 24:00. */
export const ClockSchema = Type.String({ pattern: '^(([01]\\d|2[0-3]):[0-5]\\d|24:00)$' });

/** A SHA-256 hex digest, which names every stored media file. */
export const Sha256Schema = Type.String({ pattern: '^[a-f0-9]{64}$' });

/** Weekday × time-of-day window; `start > end` crosses midnight, `start == end` is the whole day. */
export const DaypartSchema = Type.Object(
  {
    days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, maxItems: 7, uniqueItems: true }),
    start: ClockSchema,
    end: ClockSchema,
  },
  { additionalProperties: false, description: 'ISO weekdays (1 = Monday) and a local time range' },
);
export type Daypart = Static<typeof DaypartSchema>;

/** A closed-open validity window in epoch ms; null means unbounded on that side. */
export interface Window {
  readonly from: number | null;
  readonly to: number | null;
}

/** Success or failure of a socket command, as every acknowledgement carries it. */
export type Ack<T> = { ok: true; data: T } | { ok: false; code: string; message: { zh: string; en: string } };
