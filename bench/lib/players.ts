import { createHash } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import {
  SOCKET_PATH,
  canonicalJson,
  type ClientToServerEvents,
  type Manifest,
  type ManifestChanged,
  type ServerToClientEvents,
} from '../../content/index.js';
import type { BenchScreen } from './fixture.js';

type ScreenSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A push as a player must accept it: a server may announce the version alone. */
type PushedChange = Omit<ManifestChanged, 'manifest'> & { readonly manifest?: Manifest };

/** Who hears what the simulated players do; receipt times are `performance.now()` in this process. */
export interface PlayerObserver {
  manifestHeld(player: SimulatedPlayer, at: number): void;
  pinged(player: SimulatedPlayer, seq: number, at: number): void;
  problem(player: SimulatedPlayer, what: string): void;
}

/**
 * One screen's player, reduced to what matters for delivery: it keeps the manifest it was handed,
 * and fetches it over HTTP when a push announces a version without carrying the manifest.
 */
export class SimulatedPlayer {
  /** The version this player holds (from the welcome until its first push). */
  version: string | null = null;
  manifest: Manifest | null = null;
  /** The `version` field of the last push, checked against the manifest it brought. */
  pushedVersion: string | null = null;
  fetches = 0;
  private socket: ScreenSocket | null = null;
  private closing = false;

  constructor(
    readonly screen: BenchScreen,
    private readonly baseUrl: string,
    private readonly observer: PlayerObserver,
  ) {}

  /** Connects over WebSocket and resolves on `screen:welcome`. */
  connect(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // forceNew: each player is its own connection, as separate devices would be. No
      // reconnection: a drop during the bench is a finding, not something to paper over.
      const socket: ScreenSocket = io(this.baseUrl, {
        path: SOCKET_PATH,
        auth: { token: this.screen.token },
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        timeout: timeoutMs,
      });
      this.socket = socket;
      const timer = setTimeout(() => reject(new Error(`no welcome for ${this.screen.screenId} within ${timeoutMs} ms`)), timeoutMs);
      socket.once('screen:welcome', (welcome) => {
        clearTimeout(timer);
        if (welcome.screenId !== this.screen.screenId) this.observer.problem(this, 'welcomed as another screen');
        this.version = welcome.manifestVersion;
        resolve();
      });
      socket.once('connect_error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.on('manifest:changed', (change: PushedChange) => this.onChanged(change, performance.now()));
      socket.on('bench:ping', (ping) => this.observer.pinged(this, ping.seq, performance.now()));
      socket.on('disconnect', (reason) => {
        if (!this.closing) this.observer.problem(this, `socket dropped (${reason})`);
      });
    });
  }

  /** GET /api/player/manifest with the device token: the player's path when a push is bare. */
  async fetchManifest(): Promise<Manifest> {
    this.fetches++;
    const res = await fetch(`${this.baseUrl}/api/player/manifest`, { headers: { authorization: `Bearer ${this.screen.token}` } });
    if (!res.ok) throw new Error(`manifest fetch → ${res.status}`);
    return (await res.json()) as Manifest;
  }

  close(): void {
    this.closing = true;
    this.socket?.close();
  }

  private onChanged(change: PushedChange, at: number): void {
    this.pushedVersion = change.version;
    if (change.manifest) {
      this.hold(change.manifest, at);
      return;
    }
    if (change.version === this.version) return;
    this.fetchManifest().then(
      (manifest) => this.hold(manifest, performance.now()),
      (err: unknown) => this.observer.problem(this, `manifest fetch failed: ${(err as Error).message}`),
    );
  }

  private hold(manifest: Manifest, at: number): void {
    this.manifest = manifest;
    this.version = manifest.version;
    this.observer.manifestHeld(this, at);
  }
}

/** The version a manifest body hashes to, computed as the server does (content/manifest.ts). */
export function versionOf(manifest: Manifest): string {
  const { version: _version, generatedAt: _generatedAt, horizonUntil: _horizonUntil, ...body } = manifest;
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** What is wrong with the manifest a player holds after a push, or null when it is sound. */
export function heldManifestProblem(player: SimulatedPlayer): string | null {
  const m = player.manifest;
  if (!m) return 'holds no manifest';
  if (m.screenId !== player.screen.screenId) return "holds another screen's manifest";
  if (player.pushedVersion !== m.version) return 'push version differs from the manifest it carried';
  if (versionOf(m) !== m.version) return 'manifest version is not the hash of its body';
  return null;
}

/** Bytes of the `manifest:changed` payload this player last got, as the server serialised it. */
export function pushBytes(player: SimulatedPlayer): number {
  const m = player.manifest;
  if (!m) return 0;
  return Buffer.byteLength(JSON.stringify({ screenId: player.screen.screenId, version: m.version, manifest: m }));
}
