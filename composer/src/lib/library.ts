import type { TObject, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import {
  ContentInputSchema,
  candidateWindow,
  instant,
  isWithin,
  zoneOffsetMs,
  type ContentInput,
  type ContentItem,
  type ContentKind,
  type ContentRecord,
  type Zone,
} from '../../../content/index.js';

/*
 * The content library's pure parts: blank items of each kind, the schema of each field (so the
 * form checks what the server checks), search and filters, and instants in the city's time zone.
 */

/** The schema of one kind's input, taken from ContentInputSchema (the rules live once, in content/). */
export function kindSchema(kind: ContentKind): TObject {
  const variants = (ContentInputSchema as unknown as { anyOf: TObject[] }).anyOf;
  const found = variants.find((v) => (v.properties.kind as unknown as { const?: unknown }).const === kind);
  if (!found) throw new Error(`no schema for ${kind}`);
  return found;
}

/** The schema at `path` inside a kind's input (`['interpretation', 'title']`, `['steps', 0]`, `['markers', 2, 'x']`). */
export function fieldSchema(kind: ContentKind, path: readonly (string | number)[]): TSchema | undefined {
  let s: TSchema | undefined = kindSchema(kind);
  for (const key of path) {
    if (!s) return undefined;
    const props = Reflect.get(s, 'properties') as Record<string, TSchema> | undefined;
    const items = Reflect.get(s, 'items') as TSchema | undefined;
    const anyOf = Reflect.get(s, 'anyOf') as TSchema[] | undefined;
    // A nullable object (interpretation.sourceUrl's parent is not, but stay general): look into its object branch.
    const obj = props ?? anyOf?.map((a) => Reflect.get(a, 'properties') as Record<string, TSchema> | undefined).find(Boolean);
    s = typeof key === 'number' ? items : obj?.[key];
  }
  return s;
}

/** True when a field may be left blank: its schema takes null, or an empty string. */
export function blankAllowed(schema: TSchema): boolean {
  return Value.Check(schema, null) || Value.Check(schema, '');
}

/** Why a whole draft does not fit its kind's schema: the paths of the fields at fault (`/title`, `/markers/0/name`). */
export function draftProblems(input: ContentInput): string[] {
  const kind = input.kind;
  if (!Value.Check(ContentInputSchema, input)) {
    const errors = [...Value.Errors(kindSchema(kind), input)];
    return [...new Set(errors.map((e) => e.instancePath || '/'))];
  }
  return [];
}

/** True when the draft would be accepted as it is (the server still checks references and windows). */
export function draftValid(input: ContentInput): boolean {
  return Value.Check(ContentInputSchema, input);
}

// ---- Instants in the city's time zone -------------------------------------------------------

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

/** `t` as an ISO instant with the city's offset at that moment, e.g. 2026-12-01T08:00:00+08:00. */
export function cityInstant(t: number, timeZone: string): string {
  const off = zoneOffsetMs(t, timeZone);
  const d = new Date(t - (t % 1000) + off);
  const offMin = Math.round(off / 60_000);
  const sign = offMin < 0 ? '-' : '+';
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${sign}${pad(Math.floor(Math.abs(offMin) / 60))}:${pad(Math.abs(offMin) % 60)}`;
}

/** The city's wall-clock reading of an instant, `YYYY-MM-DDTHH:mm:ss` (what a date picker shows). */
export function wallClockOf(iso: string, timeZone: string): string {
  const t = instant(iso);
  if (!Number.isFinite(t)) return '';
  return cityInstant(t, timeZone).slice(0, 19);
}

/** The instant a wall-clock reading `YYYY-MM-DDTHH:mm[:ss]` names in the city, with its offset; null if unreadable. */
export function instantOfWallClock(wall: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(wall);
  if (!m) return null;
  const asUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  // Two rounds settle the offset across a daylight-saving change (none in China, but a province config may differ).
  let t = asUtc - zoneOffsetMs(asUtc, timeZone);
  t = asUtc - zoneOffsetMs(t, timeZone);
  return cityInstant(t, timeZone);
}

// ---- New items ------------------------------------------------------------------------------

/** A blank item of `kind` in `zoneId`; a notice's publicity period runs from now for 7 days. */
export function blankItem(kind: ContentKind, zoneId: string, now: number, timeZone: string): ContentInput {
  const common = { zoneId, title: '', validFrom: null, validTo: null, durationS: null };
  const minute = now - (now % 60_000);
  switch (kind) {
    case 'policy':
      return { ...common, kind, docNumber: '', issuer: '', issuedDate: cityInstant(now, timeZone).slice(0, 10), sourceUrl: '', body: '', interpretation: { title: '', body: '', sourceUrl: null } };
    case 'notice':
      return { ...common, kind, body: '', publicityStart: cityInstant(minute, timeZone), publicityEnd: cityInstant(minute + 7 * 86_400_000, timeZone), contact: '', mediaHash: null };
    case 'service-map':
      return { ...common, kind, mediaHash: null, caption: '', markers: [] };
    case 'service-guide':
      return { ...common, kind, matter: '', department: '', steps: [], materials: [], timeLimit: '', fee: '', location: '', phone: '' };
    case 'three-affairs':
      return { ...common, kind, category: 'village', period: '', body: '', rows: [] };
    case 'text':
      return { ...common, kind, body: '', align: 'left' };
    case 'image':
      return { ...common, kind, mediaHash: '', fit: 'contain', caption: '' };
    case 'video':
      return { ...common, kind, mediaHash: '', muted: true };
  }
}

/** The editable fields of a record: what PUT /api/content/:id takes. */
export function inputOf(record: ContentRecord): ContentInput {
  const { status: _s, published: _p, review: _r, createdAt: _c, updatedAt: _u, ...input } = record;
  return input as ContentInput;
}

/** The version fields of a record (for window rules). */
function versionOf(record: ContentRecord): ContentItem {
  const { status: _s, published: _p, review: _r, ...version } = record;
  return version as ContentItem;
}

/** Moves row `i` of a list by `delta` (−1 up, +1 down); out of range leaves it as it is. */
export function moveRow<T>(list: readonly T[], i: number, delta: number): T[] {
  const j = i + delta;
  const out = [...list];
  const a = out[i];
  const b = out[j];
  if (a === undefined || b === undefined) return out;
  out[i] = b;
  out[j] = a;
  return out;
}

// ---- Validity -------------------------------------------------------------------------------

export const VALIDITY_STATES = ['current', 'pending', 'ended'] as const;
export type Validity = (typeof VALIDITY_STATES)[number];

/**
 * Whether an item's window (its validity and a notice's publicity period, intersected as the
 * player does with candidateWindow) holds at `now`, has not opened yet, or has ended (or never opens).
 */
export function validityOf(record: ContentRecord | ContentItem, now: number): { state: Validity; from: number | null; to: number | null } {
  const item = 'status' in record ? versionOf(record) : record;
  const w = candidateWindow(item, undefined);
  if (w.to !== null && (w.to <= now || (w.from !== null && w.from >= w.to))) return { state: 'ended', ...w };
  if (w.from !== null && now < w.from) return { state: 'pending', ...w };
  return { state: 'current', ...w };
}

// ---- Search and filters ---------------------------------------------------------------------

/** Fields that hold no words a person would search for. */
const NOT_TEXT = new Set(['id', 'kind', 'zoneId', 'mediaHash', 'createdAt', 'updatedAt', 'validFrom', 'validTo', 'publicityStart', 'publicityEnd', 'issuedDate', 'sourceUrl', 'align', 'fit', 'category', 'status', 'published', 'review', 'x', 'y']);

/** Every piece of text of an item (title, bodies, rows, markers…), for search. */
export function textsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) textsOf(v, out);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) if (!NOT_TEXT.has(k)) textsOf(v, out);
  return out;
}

export interface LibraryFilter {
  readonly search: string;
  readonly kind: ContentKind | null;
  /** A zone and everything under it. */
  readonly zoneId: string | null;
  readonly status: ContentRecord['status'] | null;
  readonly validity: Validity | null;
}

/** The records that pass `f` at `now`, most recently changed first. */
export function filterRecords(records: readonly ContentRecord[], f: LibraryFilter, zones: ReadonlyMap<string, Pick<Zone, 'id' | 'parentId'>>, now: number): ContentRecord[] {
  const words = f.search.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return records
    .filter((r) => {
      if (f.kind && r.kind !== f.kind) return false;
      if (f.status && r.status !== f.status) return false;
      if (f.zoneId && !isWithin(r.zoneId, f.zoneId, zones)) return false;
      if (f.validity && validityOf(r, now).state !== f.validity) return false;
      if (words.length > 0) {
        const text = textsOf(r).join('\n').toLowerCase();
        if (!words.every((w) => text.includes(w))) return false;
      }
      return true;
    })
    .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : a.id < b.id ? -1 : 1));
}
