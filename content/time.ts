/**
 * Wall-clock arithmetic in the city's time zone, done with ECMA-402 `Intl` only so that the
 * server, the player and the composer compute the same local day on every machine, whatever
 * the host's own `TZ` is.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** The default city time zone (Binzhou, Shaanxi). */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export type IsoWeekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** The local calendar position of an instant in a time zone. */
export interface LocalTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly weekday: IsoWeekday;
  /** Milliseconds since local midnight. */
  readonly msOfDay: number;
  /** Epoch milliseconds of local midnight that began this local day. */
  readonly midnight: number;
  /** Days since 1970-01-01 counted in local dates; consecutive local days differ by 1. */
  readonly dayNumber: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Offset of the zone from UTC at instant `t`, in milliseconds (Asia/Shanghai: +8 h). */
export function zoneOffsetMs(t: number, timeZone: string): number {
  const parts = formatterFor(timeZone).formatToParts(new Date(t));
  const get = (type: Intl.DateTimeFormatPartTypes): number => {
    const part = parts.find((p) => p.type === type);
    return part ? Number(part.value) : 0;
  };
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  const wholeSeconds = t - (((t % 1000) + 1000) % 1000);
  return asUtc - wholeSeconds;
}

/** Where instant `t` falls on the local calendar of `timeZone`. */
export function localTime(t: number, timeZone: string): LocalTime {
  const local = t + zoneOffsetMs(t, timeZone);
  const dayNumber = Math.floor(local / DAY_MS);
  const msOfDay = local - dayNumber * DAY_MS;
  const date = new Date(dayNumber * DAY_MS);
  const jsDay = date.getUTCDay();
  const weekday = (jsDay === 0 ? 7 : jsDay) as IsoWeekday;
  // Midnight is found with the offset in force at midnight itself, so a DST change later in
  // the day does not move it.
  const guess = t - msOfDay;
  const midnight = dayNumber * DAY_MS - zoneOffsetMs(guess, timeZone);
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    weekday,
    msOfDay,
    midnight,
    dayNumber,
  };
}

/** Parses "HH:MM" (00:00–24:00) into minutes since midnight; returns undefined when malformed. */
export function parseClock(hhmm: string): number | undefined {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(hhmm);
  if (!m) return undefined;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  return minutes > 24 * 60 ? undefined : minutes;
}

/** Epoch ms of an ISO-8601 instant; NaN-safe callers check with Number.isFinite. */
export function instant(iso: string): number {
  return Date.parse(iso);
}

/** Calendar days from the local date of `from` to the local date of `to` (0 on the same day). */
export function calendarDaysBetween(from: number, to: number, timeZone: string): number {
  return localTime(to, timeZone).dayNumber - localTime(from, timeZone).dayNumber;
}
