import type { Ack } from './common.js';
import type { Manifest } from './manifest.js';

/** The Socket.IO path, shared by server and players. */
export const SOCKET_PATH = '/socket.io';

/** Sent at once on connection: who the server thinks this screen is, and its clock. */
export interface ScreenWelcome {
  readonly screenId: string;
  readonly zoneIds: readonly string[];
  readonly manifestVersion: string;
  /** Server wall clock (epoch ms) when the welcome was sent, for the player's clock offset. */
  readonly serverTime: number;
}

/** A screen's manifest changed; the new one travels with the push, so no fetch is needed. */
export interface ManifestChanged {
  readonly screenId: string;
  readonly version: string;
  readonly manifest: Manifest;
}

export interface Heartbeat {
  readonly manifestVersion: string | null;
  /** The player's own clock when it sent this (epoch ms). */
  readonly clientTime: number;
}

/** A bare broadcast used only by `npm run bench:push` as the baseline (ZONECAST_BENCH_ROUTES=1). */
export interface BenchPing {
  readonly seq: number;
  readonly pad: string;
}

export interface ServerToClientEvents {
  'screen:welcome': (welcome: ScreenWelcome) => void;
  'manifest:changed': (change: ManifestChanged) => void;
  'bench:ping': (ping: BenchPing) => void;
}

/** Something a player must tell the server about: assets it could not get, a manifest it cannot read. */
export type PlayerReport =
  | { readonly kind: 'assets-failed'; readonly manifestVersion: string; readonly failures: readonly { readonly url: string; readonly error: string }[] }
  | { readonly kind: 'schema-mismatch'; readonly manifestVersion: string; readonly got: number; readonly supported: number };

export interface ClientToServerEvents {
  'screen:heartbeat': (beat: Heartbeat, ack: (res: Ack<{ serverTime: number }>) => void) => void;
  'manifest:fetch': (ack: (res: Ack<Manifest>) => void) => void;
  'screen:report': (report: PlayerReport, ack: (res: Ack<null>) => void) => void;
}

/**
 * How players reconnect after losing the server: exponential backoff with full jitter
 * (socket.io's randomizationFactor 1 draws each delay from 0 to twice the step), so that a
 * restarted server is not met by every screen in the same second.
 */
export const RECONNECT_POLICY = { reconnectionDelay: 2000, reconnectionDelayMax: 60_000, randomizationFactor: 1 } as const;

export type InterServerEvents = Record<string, never>;

/** What the server keeps on each authenticated socket. */
export interface SocketData {
  screenId: string;
  zoneIds: string[];
}

/** Runtime lists of every event name, checked against the interfaces above by the compiler. */
export const SERVER_TO_CLIENT_EVENTS = Object.keys({
  'screen:welcome': true,
  'manifest:changed': true,
  'bench:ping': true,
} satisfies Record<keyof ServerToClientEvents, true>) as (keyof ServerToClientEvents)[];

export const CLIENT_TO_SERVER_EVENTS = Object.keys({
  'screen:heartbeat': true,
  'manifest:fetch': true,
  'screen:report': true,
} satisfies Record<keyof ClientToServerEvents, true>) as (keyof ClientToServerEvents)[];

/** Room names: a screen joins its own room and one per zone on its path to the city. */
export const rooms = {
  screen: (id: string) => `screen:${id}`,
  zone: (id: string) => `zone:${id}`,
} as const;
