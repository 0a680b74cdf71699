import { instant, parseClock, type Daypart } from '../../content/index.js';
import { AppError } from '../errors.js';
import type { Data } from '../services/store.js';

/** A window's end must come after its start. */
export function checkWindow(from: string | null, to: string | null): void {
  if (from && !Number.isFinite(instant(from))) throw new AppError('VALIDATION_FAILED', `bad instant ${from}`);
  if (to && !Number.isFinite(instant(to))) throw new AppError('VALIDATION_FAILED', `bad instant ${to}`);
  if (from && to && instant(to) <= instant(from)) throw new AppError('WINDOW_INVALID', `${from} → ${to}`);
}

/** Every daypart time must parse. */
export function checkDayparts(dayparts: readonly Daypart[]): void {
  for (const d of dayparts) {
    if (parseClock(d.start) === undefined || parseClock(d.end) === undefined) throw new AppError('DAYPART_INVALID', `${d.start}–${d.end}`);
  }
}

/** Throws REFERENCE_MISSING unless `id` names a document of `collection`. */
export function checkRef(draft: Data, collection: 'zones' | 'content' | 'layouts' | 'playlists' | 'schedules', id: string | null | undefined): void {
  if (id === null || id === undefined) return;
  if (!(draft[collection] as { id: string }[]).some((d) => d.id === id)) throw new AppError('REFERENCE_MISSING', `${collection}/${id}`);
}

/** Throws REFERENCE_MISSING unless the media file was uploaded. */
export function checkMedia(draft: Data, hash: string): void {
  if (!draft.media.some((m) => m.hash === hash)) throw new AppError('REFERENCE_MISSING', `media/${hash}`);
}
