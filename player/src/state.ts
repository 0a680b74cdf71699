/** What the player reports through `window.zonecast.state()`, for tests and diagnostics. */
import type { AlertPresentation, AlertSeverity } from '../../content/index.js';

export type RendererName = 'webgl' | 'webgpu' | 'canvas';

export interface RegionState {
  readonly itemId: string | null;
  readonly page: number;
  readonly pages: number;
  readonly slotStart: number | null;
}

export interface RendererState {
  readonly renderer: RendererName;
  readonly manifestVersion: string | null;
  readonly pendingVersion: string | null;
  readonly open: boolean;
  readonly regions: Record<string, RegionState>;
  readonly fps: number;
  /** Textures held for items on screen. */
  readonly textures: number;
  /** The server-corrected clock when the state was taken (epoch ms). */
  readonly now: number;
  /** performance.now() of the first frame that drew a manifest, or null before it. */
  readonly firstFrameMs: number | null;
}

/** An urgent alert the player holds (see alerts.ts), in order of precedence. */
export interface AlertState {
  readonly alertId: string;
  readonly revision: number;
  readonly severity: AlertSeverity;
  readonly presentation: AlertPresentation;
  /** Epoch ms (server clock) at which the player drops it. */
  readonly expiresAt: number;
  /** The corrected clock when the first frame with it was drawn, or null before; kept across restarts. */
  readonly displayedAt: number | null;
  /** On screen now: it has the screen and a frame with it has been rendered. */
  readonly showing: boolean;
}

/**
 * What the player is doing: loading its identity, showing a pairing code (no device token), or
 * playing as a paired screen (online, or offline from its caches).
 */
export type PlayerMode = 'starting' | 'pairing' | 'playing';

export interface PlayerState extends Partial<RendererState> {
  readonly mode: PlayerMode;
  /** The 6-digit code on the pairing screen, while pairing and once the server has sent one. */
  readonly pairingCode: string | null;
  /** When that code stops working (server clock, epoch ms). */
  readonly pairingExpiresAt: number | null;
  readonly screenId: string | null;
  /** Connected to the server: as a screen while playing, as a pairing player while pairing. */
  readonly online: boolean;
  readonly clockOffsetMs: number;
  readonly manifestVersion: string | null;
  /** The app build (changes with every release), for update tests. */
  readonly build: string;
  /** A new app version is installed and waits for the next item boundary. */
  readonly updateWaiting: boolean;
  /** Reports made to the server recently (sent, or waiting for a connection). */
  readonly reports: readonly unknown[];
  /** Urgent alerts held, shown or waiting their turn. */
  readonly alerts: readonly AlertState[];
  /** Showing its name large after staff pressed "identify" (player/src/identify.ts). */
  readonly identifying: boolean;
}

/** The diagnostics handle the player puts on `window`. */
export interface ZoneCastHandle {
  state(): PlayerState;
}
