import { createHash } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import {
  SOCKET_PATH,
  ancestry,
  errorBody,
  rooms,
  type ClientToServerEvents,
  type InterServerEvents,
  type PlayerReport,
  type ServerToClientEvents,
  type SocketData,
} from '../../content/index.js';
import type { Change, ManifestService } from './manifests.js';
import type { Store } from './store.js';

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface RealtimeService {
  readonly io: IoServer;
  /** Re-resolves the screens a committed change may affect and pushes to those whose hash changed. */
  publish(change: Change): Promise<string[]>;
  /** Recent reports from a screen (assets it could not get, schemas it cannot read), newest last. */
  reportsOf(screenId: string): readonly { at: number; report: PlayerReport }[];
  /** Records the version a screen was handed, so that an unchanged re-resolve is not pushed. */
  noteDelivered(screenId: string, version: string): void;
  close(): Promise<void>;
}

/** SHA-256 of a device token, as the store keeps it. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

type Logger = { warn: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void };

/** Socket.IO for screens: token auth, per-screen and per-zone rooms, and targeted manifest pushes. */
export function createRealtime(deps: { server: HttpServer; store: Store; manifests: ManifestService; log: Logger }): RealtimeService {
  const { store, manifests, log } = deps;
  const io: IoServer = new Server(deps.server, { path: SOCKET_PATH, serveClient: false, pingInterval: 20_000, pingTimeout: 20_000 });
  // What each screen was last handed, by this process. Losing it (a restart) only costs a
  // redundant push; it never hides one, because an unknown screen is always pushed to.
  const delivered = new Map<string, string>();
  // Diagnostics only: the last few reports of each screen, also written to the log.
  const reports = new Map<string, { at: number; report: PlayerReport }[]>();

  io.use((socket, next) => {
    const token: unknown = socket.handshake.auth?.token;
    const tokenHash = typeof token === 'string' && token.length >= 16 ? hashToken(token) : null;
    const screen = tokenHash ? store.read().screens.find((s) => s.tokenHash === tokenHash) : undefined;
    if (!screen) {
      const err = new Error('DEVICE_TOKEN_INVALID') as Error & { data?: unknown };
      err.data = errorBody('DEVICE_TOKEN_INVALID');
      return next(err);
    }
    const zones = new Map(store.read().zones.map((z) => [z.id, z]));
    socket.data = { screenId: screen.id, zoneIds: ancestry(screen.zoneId, zones).map((z) => z.id) };
    next();
  });

  io.on('connection', async (socket) => {
    const { screenId, zoneIds } = socket.data;
    await socket.join([rooms.screen(screenId), ...zoneIds.map(rooms.zone)]);
    try {
      const manifest = await manifests.resolve(screenId);
      delivered.set(screenId, manifest.version);
      socket.emit('screen:welcome', { screenId, zoneIds, manifestVersion: manifest.version, serverTime: Date.now() });
    } catch (err) {
      log.error({ err, screenId }, 'welcome failed');
    }

    socket.on('screen:heartbeat', (beat, ack) => {
      if (typeof ack !== 'function') return;
      ack({ ok: true, data: { serverTime: Date.now() } });
    });

    socket.on('screen:report', (report, ack) => {
      if (typeof ack !== 'function') return;
      log.warn({ screenId, report }, 'player report');
      const list = reports.get(screenId) ?? [];
      list.push({ at: Date.now(), report });
      reports.set(screenId, list.slice(-20));
      ack({ ok: true, data: null });
    });

    socket.on('manifest:fetch', async (ack) => {
      if (typeof ack !== 'function') return;
      try {
        const manifest = await manifests.resolve(screenId);
        delivered.set(screenId, manifest.version);
        ack({ ok: true, data: manifest });
      } catch (err) {
        log.error({ err, screenId }, 'manifest fetch failed');
        const body = errorBody('INTERNAL');
        ack({ ok: false, code: body.code, message: body.message });
      }
    });
  });

  async function publish(change: Change): Promise<string[]> {
    const pushed: string[] = [];
    let n = 0;
    for (const { screenId, manifest: resolveOne } of manifests.resolveMany(manifests.affectedScreens(change))) {
      // Let heartbeats and requests through during a large fan-out.
      if (++n % 64 === 0) await new Promise<void>((r) => setImmediate(r));
      try {
        const manifest = await resolveOne();
        if (delivered.get(screenId) === manifest.version) continue;
        delivered.set(screenId, manifest.version);
        io.to(rooms.screen(screenId)).emit('manifest:changed', { screenId, version: manifest.version, manifest });
        pushed.push(screenId);
      } catch (err) {
        log.warn({ err, screenId }, 'manifest resolve failed during publish');
      }
    }
    return pushed;
  }

  return {
    io,
    publish,
    noteDelivered: (screenId, version) => delivered.set(screenId, version),
    reportsOf: (screenId) => reports.get(screenId) ?? [],
    // The HTTP server belongs to Fastify, which closes it; here only the transports are cut.
    // No socket.io "disconnect" packet is sent: a client takes that as final and never
    // reconnects, whereas a cut transport makes it retry by RECONNECT_POLICY.
    close: async () => {
      io.engine.close();
    },
  };
}
