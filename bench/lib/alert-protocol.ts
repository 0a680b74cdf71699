import type { AlertShow } from '../../content/index.js';

/** A screen a player process connects as. */
export interface FleetScreen {
  readonly screenId: string;
  readonly token: string;
}

/** From the bench to a player process; the answer carries the same `id`. */
export type ToPlayers = { readonly id: number } & (
  | { readonly type: 'connect'; readonly url: string; readonly screens: readonly FleetScreen[]; readonly concurrency: number; readonly timeoutMs: number }
  | { readonly type: 'stats' }
  /** Answered once every player of the process has acknowledged `alertId` displayed, or after `timeoutMs`. */
  | { readonly type: 'await-displayed'; readonly alertId: string; readonly timeoutMs: number }
  | { readonly type: 'sent'; readonly key: string }
  | { readonly type: 'collect' }
  | { readonly type: 'close' }
);

/** What one player process has seen so far. */
export interface FleetStats {
  readonly connected: number;
  /** `alert:show` without an acknowledgement callback, i.e. from the alert service. */
  readonly shows: number;
  /** `alert:show` with a callback, i.e. the bench's bare emit, answered at once. */
  readonly bareAcks: number;
  /** `alert:ack` sent, answered `{ ok: true }`, answered otherwise, or left unanswered within the player's 10 s. */
  readonly acksSent: number;
  readonly acksOk: number;
  readonly acksRefused: number;
  readonly acksTimedOut: number;
  /** Players that acknowledged `displayed` for each alert id (counted when sent). */
  readonly displayedBy: Readonly<Record<string, number>>;
  /** CPU time the player processes have used so far (ms, user + system, summed). */
  readonly cpuMs: number;
  /** The last `alert:show` payload from the alert service, for the bare emit to repeat. */
  readonly lastShow: AlertShow | null;
  readonly problems: Readonly<Record<string, number>>;
}

/** From a player process to the bench: the answer to request `id`. */
export type FromPlayers = { readonly id: number } & (
  | { readonly type: 'connected'; readonly count: number; readonly ms: number }
  | { readonly type: 'stats'; readonly stats: FleetStats }
  | { readonly type: 'displayed'; readonly count: number }
  | { readonly type: 'sent'; readonly at: readonly number[] }
  | { readonly type: 'collected' }
  | { readonly type: 'failed'; readonly message: string }
);
