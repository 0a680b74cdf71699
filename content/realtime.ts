import type { Ack } from './common.js';
import type { AlertAck, AlertShow, Delivery } from './alert.js';
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

/** A pairing code for a player without a device token, to show large with the server's address. */
export interface PairingCode {
  readonly code: string;
  /** Epoch ms after which the code no longer works; the player asks for a new one before. */
  readonly expiresAt: number;
}

/** A staff member claimed this player's code: its device token, shown once. */
export interface PairingClaimed {
  readonly screenId: string;
  readonly deviceToken: string;
}

/** A screen came online or went offline, for staff watching a zone. */
export interface ScreenStatus {
  readonly screenId: string;
  readonly zoneId: string;
  readonly online: boolean;
  readonly at: number;
}

/** What staff may ask a screen's player to do remotely. */
export const SCREEN_COMMANDS = ['identify', 'reload'] as const;
export type ScreenCommandName = (typeof SCREEN_COMMANDS)[number];

/** How long a player shows its identity (its name, zone and id, large over everything) on `identify`. */
export const IDENTIFY_MS = 10_000;

/**
 * A command for one screen's player, sent to its room `screen:<id>`: `identify` shows who it is
 * for IDENTIFY_MS, `reload` reloads the player page (it restarts from its caches). The screen's
 * name and zone travel with it, so an identify shows a rename made a moment ago.
 */
export interface ScreenCommand {
  readonly command: ScreenCommandName;
  /** Server wall clock (epoch ms) when it was sent. */
  readonly issuedAt: number;
  readonly screenId: string;
  readonly screenName: string;
  readonly zoneId: string;
  /** The zone's full name. */
  readonly zoneName: string;
}

export interface ServerToClientEvents {
  'screen:welcome': (welcome: ScreenWelcome) => void;
  'manifest:changed': (change: ManifestChanged) => void;
  /** The screen's token was revoked or replaced: forget it and show the pairing screen. */
  'screen:revoked': (info: { readonly screenId: string }) => void;
  'pairing:code': (code: PairingCode) => void;
  'pairing:claimed': (claim: PairingClaimed) => void;
  'screen:status': (status: ScreenStatus) => void;
  /** An urgent alert to show now, over everything, until it expires or is cleared. */
  'alert:show': (alert: AlertShow) => void;
  /** The all clear: stop showing this alert. */
  'alert:clear': (info: { readonly alertId: string }) => void;
  /** A change on an alert's delivery board, for staff watching it. */
  'alert:delivery': (delivery: Delivery) => void;
  /** Staff asked this screen to identify itself or to reload. */
  'screen:command': (command: ScreenCommand) => void;
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
  /** A pairing player asks for a fresh code (the old one is about to expire). */
  'pairing:renew': (ack: (res: Ack<PairingCode>) => void) => void;
  /** Staff start watching a zone's screens: the answer lists those online now, then `screen:status` follows. */
  'screens:watch': (req: { readonly zoneId: string }, ack: (res: Ack<{ readonly online: readonly string[] }>) => void) => void;
  /** A screen received, then displayed, an alert; the server answers once it has recorded it. */
  'alert:ack': (ack: AlertAck, reply: (res: Ack<null>) => void) => void;
  /** Staff start watching an alert's delivery board; `alert:delivery` events follow. */
  'alerts:watch': (req: { readonly alertId: string }, ack: (res: Ack<{ readonly deliveries: readonly Delivery[] }>) => void) => void;
}

/** Who is on the other end of a socket: a paired screen, a player waiting to be paired, or staff. */
export type SocketKind = 'screen' | 'pairing' | 'staff';

/** Which kind of socket may send each event; the server refuses the others with FORBIDDEN_ROLE. */
export const EVENT_SENDERS = {
  'screen:heartbeat': 'screen',
  'manifest:fetch': 'screen',
  'screen:report': 'screen',
  'pairing:renew': 'pairing',
  'screens:watch': 'staff',
  'alert:ack': 'screen',
  'alerts:watch': 'staff',
} as const satisfies Record<keyof ClientToServerEvents, SocketKind>;

/**
 * How players reconnect after losing the server: exponential backoff with full jitter
 * (socket.io's randomizationFactor 1 draws each delay from 0 to twice the step), so that a
 * restarted server is not met by every screen in the same second.
 */
export const RECONNECT_POLICY = { reconnectionDelay: 2000, reconnectionDelayMax: 60_000, randomizationFactor: 1 } as const;

export type InterServerEvents = Record<string, never>;

/** What the server keeps on each authenticated socket. */
export type SocketData =
  | { kind: 'screen'; screenId: string; zoneIds: string[] }
  | { kind: 'pairing'; pairingId: string }
  | { kind: 'staff'; userId: string; sessionHash: string };

/**
 * How a socket introduces itself in `handshake.auth`: a device token, or a pairing secret (a
 * random value the player keeps, so that it gets the same code back after a reconnect). Staff
 * sockets send nothing here; the session cookie travels with the handshake.
 */
export type SocketAuth =
  | { readonly token: string }
  | { readonly pairingSecret: string; readonly viewport?: { readonly width: number; readonly height: number } }
  | Record<string, never>;

/** Runtime lists of every event name, checked against the interfaces above by the compiler. */
export const SERVER_TO_CLIENT_EVENTS = Object.keys({
  'screen:welcome': true,
  'manifest:changed': true,
  'screen:revoked': true,
  'pairing:code': true,
  'pairing:claimed': true,
  'screen:status': true,
  'alert:show': true,
  'alert:clear': true,
  'alert:delivery': true,
  'screen:command': true,
  'bench:ping': true,
} satisfies Record<keyof ServerToClientEvents, true>) as (keyof ServerToClientEvents)[];

export const CLIENT_TO_SERVER_EVENTS = Object.keys({
  'screen:heartbeat': true,
  'manifest:fetch': true,
  'screen:report': true,
  'pairing:renew': true,
  'screens:watch': true,
  'alert:ack': true,
  'alerts:watch': true,
} satisfies Record<keyof ClientToServerEvents, true>) as (keyof ClientToServerEvents)[];

/** Room names: a screen joins its own room and one per zone on its path to the city. */
export const rooms = {
  screen: (id: string) => `screen:${id}`,
  zone: (id: string) => `zone:${id}`,
  /** Staff watching a zone's screens (and every zone below it). */
  staffZone: (id: string) => `staff-zone:${id}`,
  pairing: (id: string) => `pairing:${id}`,
  /** Staff watching one alert's delivery board. */
  alert: (id: string) => `alert:${id}`,
} as const;
