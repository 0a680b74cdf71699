import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import {
  EVENT_SENDERS,
  SESSION_POLICY,
  SOCKET_PATH,
  ancestry,
  errorBody,
  hasPermission,
  inSubtree,
  rooms,
  type ErrorCode,
  type SocketKind,
  type ClientToServerEvents,
  type InterServerEvents,
  type PlayerReport,
  type ServerToClientEvents,
  type SocketData,
} from '../../content/index.js';
import { AppError } from '../errors.js';
import { boardDenial, type AlertRuntime } from './alerts.js';
import type { AuthService } from './auth.js';
import type { Change, ManifestService } from './manifests.js';
import { hashSecret, type PairingOpen, type PairingService } from './pairing.js';
import type { Store, StoredScreen } from './store.js';

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface RealtimeService {
  readonly io: IoServer;
  /** Re-resolves the screens a committed change may affect and pushes to those whose hash changed. */
  publish(change: Change): Promise<string[]>;
  /** Recent reports from a screen (assets it could not get, schemas it cannot read), newest last. */
  reportsOf(screenId: string): readonly { at: number; report: PlayerReport }[];
  /** Records the version a screen was handed, so that an unchanged re-resolve is not pushed. */
  noteDelivered(screenId: string, version: string): void;
  /** Tells a screen its token no longer works (it returns to pairing) and disconnects it. */
  revokeScreen(screenId: string): void;
  /** Disconnects the staff sockets of an ended session. */
  disconnectSession(sessionHash: string): void;
  close(): Promise<void>;
}

/** SHA-256 of a device token, as the store keeps it. */
export const hashToken = hashSecret;

/** Tells staff watching a screen's zone, or any zone above it, that the screen came online or went offline. */
export function emitScreenStatus(io: IoServer, store: Store, screenId: string, zoneId: string, online: boolean): void {
  const targets = ancestry(zoneId, new Map(store.read().zones.map((z) => [z.id, z]))).map((z) => rooms.staffZone(z.id));
  if (targets.length > 0) io.to(targets).emit('screen:status', { screenId, zoneId, online, at: Date.now() });
}

// Lookups over the committed screens, built once per version of the collection (a write that
// does not touch screens shares it with the document before), so that connecting 10,000 screens
// does not scan 10,000 screens each.
const byToken = new WeakMap<readonly StoredScreen[], Map<string, StoredScreen>>();
const byId = new WeakMap<readonly StoredScreen[], Map<string, StoredScreen>>();
function screensByToken(screens: readonly StoredScreen[]): ReadonlyMap<string, StoredScreen> {
  let map = byToken.get(screens);
  if (!map) byToken.set(screens, (map = new Map(screens.map((s) => [s.tokenHash, s]))));
  return map;
}
function screensById(screens: readonly StoredScreen[]): ReadonlyMap<string, StoredScreen> {
  let map = byId.get(screens);
  if (!map) byId.set(screens, (map = new Map(screens.map((s) => [s.id, s]))));
  return map;
}

/** A screen's "last seen" is written at most this often: the offline sweep needs it only coarsely. */
export const SEEN_WRITE_EVERY_MS = 30_000;

type Logger = { warn: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void; info: (obj: object, msg: string) => void };
type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

const sessionRoom = (sessionHash: string) => `staff-session:${sessionHash}`;

function fail(code: ErrorCode): { ok: false; code: ErrorCode; message: { zh: string; en: string } } {
  const body = errorBody(code);
  return { ok: false, code: body.code, message: body.message };
}

function connectError(code: ErrorCode): Error {
  const err = new Error(code) as Error & { data?: unknown };
  err.data = errorBody(code);
  return err;
}

function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

function viewportOf(v: unknown): { width: number; height: number } | null {
  if (!v || typeof v !== 'object') return null;
  const { width, height } = v as Record<string, unknown>;
  return Number.isInteger(width) && Number.isInteger(height) && (width as number) > 0 && (height as number) > 0 && (width as number) <= 16384 && (height as number) <= 16384
    ? { width: width as number, height: height as number }
    : null;
}

/**
 * Socket.IO for three kinds of client: screens (device token), players waiting to be paired
 * (pairing secret) and staff (session cookie). Each event names the kind that may send it
 * (EVENT_SENDERS in content/), and a guard in front of every handler enforces it.
 */
export function createRealtime(deps: { server: HttpServer; store: Store; manifests: ManifestService; auth: AuthService; pairing: PairingService; alerts: AlertRuntime; log: Logger }): RealtimeService {
  const { store, manifests, auth, pairing, alerts, log } = deps;
  const io: IoServer = new Server(deps.server, { path: SOCKET_PATH, serveClient: false, pingInterval: 20_000, pingTimeout: 20_000 });
  // What each screen was last handed, by this process. Losing it (a restart) only costs a
  // redundant push; it never hides one, because an unknown screen is always pushed to.
  const delivered = new Map<string, string>();
  // Diagnostics only: the last few reports of each screen, also written to the log.
  const reports = new Map<string, { at: number; report: PlayerReport }[]>();
  const zonesNow = () => new Map(store.read().zones.map((z) => [z.id, z]));

  io.use(async (socket, next) => {
    const hs = (socket.handshake.auth ?? {}) as Record<string, unknown>;
    try {
      if ('token' in hs) {
        const token = hs.token;
        const tokenHash = typeof token === 'string' && token.length >= 16 ? hashToken(token) : null;
        const screen = tokenHash ? screensByToken(store.read().screens).get(tokenHash) : undefined;
        if (!screen) return next(connectError('DEVICE_TOKEN_INVALID'));
        socket.data = { kind: 'screen', screenId: screen.id, zoneIds: ancestry(screen.zoneId, zonesNow()).map((z) => z.id) };
        return next();
      }
      if ('pairingSecret' in hs) {
        const secret = hs.pairingSecret;
        if (typeof secret !== 'string' || secret.length < 16 || secret.length > 128) return next(connectError('PAIRING_REQUIRED'));
        const opened = await pairing.open(secret, viewportOf(hs.viewport), socket.handshake.address);
        socket.data = { kind: 'pairing', pairingId: opened.pairing.id };
        pendingOpen.set(socket.id, opened);
        return next();
      }
      const sessionId = cookieValue(socket.handshake.headers.cookie, SESSION_POLICY.cookie);
      const found = sessionId ? await auth.session(sessionId) : null;
      if (found === null) return next(connectError('AUTH_REQUIRED'));
      if (found === 'expired') return next(connectError('SESSION_EXPIRED'));
      socket.data = { kind: 'staff', userId: found.user.id, sessionHash: found.session.idHash };
      return next();
    } catch (err) {
      if (err instanceof AppError) return next(connectError(err.code));
      log.error({ err }, 'socket handshake failed');
      return next(connectError('INTERNAL'));
    }
  });
  const pendingOpen = new Map<string, PairingOpen>();

  /** Refuses an event from the wrong kind of client, or from staff whose session has ended. */
  function guard(socket: IoSocket): void {
    socket.use(([event, ...args], next) => {
      const ack = args[args.length - 1];
      const reply = (code: ErrorCode) => (typeof ack === 'function' ? (ack as (r: unknown) => void)(fail(code)) : undefined);
      const sender = (EVENT_SENDERS as Record<string, SocketKind | undefined>)[event];
      if (!sender) return reply('ROUTE_NOT_FOUND');
      if (sender !== socket.data.kind) return reply('FORBIDDEN_ROLE');
      if (socket.data.kind === 'staff') {
        const { sessionHash, userId } = socket.data;
        const data = store.read();
        const live = data.sessions.some((s) => s.idHash === sessionHash && Date.parse(s.expiresAt) > Date.now()) && data.users.some((u) => u.id === userId && !u.disabled);
        if (!live) {
          reply('SESSION_EXPIRED');
          socket.disconnect(true);
          return;
        }
      }
      next();
    });
  }

  async function screenStatus(screenId: string, zoneId: string, online: boolean): Promise<void> {
    emitScreenStatus(io, store, screenId, zoneId, online);
  }

  io.on('connection', async (socket) => {
    guard(socket);
    const data = socket.data;
    if (data.kind === 'screen') return onScreen(socket, data.screenId, data.zoneIds);
    if (data.kind === 'pairing') return onPairing(socket, data.pairingId);
    return onStaff(socket, data.userId, data.sessionHash);
  });

  async function onPairing(socket: IoSocket, pairingId: string): Promise<void> {
    const opened = pendingOpen.get(socket.id);
    pendingOpen.delete(socket.id);
    await socket.join(rooms.pairing(pairingId));
    if (opened?.claimed) socket.emit('pairing:claimed', opened.claimed);
    else if (opened) socket.emit('pairing:code', { code: opened.pairing.code, expiresAt: Date.parse(opened.pairing.expiresAt) });
    socket.on('pairing:renew', async (ack) => {
      try {
        const p = await pairing.renew(pairingId);
        if (!p) return ack(fail('PAIRING_CODE_INVALID'));
        ack({ ok: true, data: { code: p.code, expiresAt: Date.parse(p.expiresAt) } });
      } catch (err) {
        log.error({ err, pairingId }, 'pairing renew failed');
        ack(fail('INTERNAL'));
      }
    });
  }

  async function onStaff(socket: IoSocket, userId: string, sessionHash: string): Promise<void> {
    await socket.join(sessionRoom(sessionHash));
    socket.on('screens:watch', async (req, ack) => {
      const data = store.read();
      const user = data.users.find((u) => u.id === userId);
      const zoneId = typeof req?.zoneId === 'string' ? req.zoneId : '';
      if (!user || !hasPermission(user, 'read')) return ack(fail('FORBIDDEN_ROLE'));
      if (!data.zones.some((z) => z.id === zoneId)) return ack(fail('NOT_FOUND'));
      // Screen states of a zone are for those who act in it, not for a neighbouring town.
      if (!inSubtree(user, zoneId, zonesNow())) return ack(fail('FORBIDDEN_SCOPE'));
      await socket.join(rooms.staffZone(zoneId));
      const sockets = await io.in(rooms.zone(zoneId)).fetchSockets();
      const online = [...new Set(sockets.flatMap((s) => (s.data.kind === 'screen' ? [s.data.screenId] : [])))];
      ack({ ok: true, data: { online } });
    });
    socket.on('alerts:watch', async (req, ack) => {
      if (typeof ack !== 'function') return;
      const data = store.read();
      const alertId = typeof req?.alertId === 'string' ? req.alertId : '';
      const why = boardDenial(
        data.users.find((u) => u.id === userId),
        data.alerts.find((a) => a.id === alertId),
        data,
      );
      if (why) return ack(fail(why));
      await socket.join(rooms.alert(alertId));
      ack({ ok: true, data: { deliveries: alerts.deliveries(alertId) } });
    });
  }

  // When this process last wrote each screen's "last seen": a write-throttle only. Losing it
  // (a restart) costs one extra write.
  const seenWritten = new Map<string, number>();

  /**
   * Records that a screen was heard from, at most once per SEEN_WRITE_EVERY_MS, but at once when
   * the sweep had marked it offline; answers whether it had been.
   */
  async function noteSeen(screenId: string): Promise<boolean> {
    const now = Date.now();
    const stored = store.read().seen.find((s) => s.screenId === screenId);
    if (stored && stored.offlineSince === null && now - (seenWritten.get(screenId) ?? 0) < SEEN_WRITE_EVERY_MS) return false;
    seenWritten.set(screenId, now);
    return store.write((draft, base) => {
      // Read from `base` and replace `seen` whole: touching a draft collection deep-copies it, and
      // 10,000 screens connecting would copy every screen (or every record) once each.
      if (!screensById(base.screens).has(screenId)) return false;
      const at = new Date(now).toISOString();
      const i = base.seen.findIndex((s) => s.screenId === screenId);
      const seen = base.seen[i];
      if (!seen) {
        draft.seen = [...base.seen, { screenId, lastSeenAt: at, offlineSince: null }];
        return false;
      }
      const next = [...base.seen];
      next[i] = { screenId, lastSeenAt: at > seen.lastSeenAt ? at : seen.lastSeenAt, offlineSince: null };
      draft.seen = next;
      return seen.offlineSince !== null;
    });
  }

  async function onScreen(socket: IoSocket, screenId: string, zoneIds: string[]): Promise<void> {
    // First, so that an alert pushed while this connection settles can be acknowledged.
    socket.on('alert:ack', (ack, reply) => {
      if (typeof reply !== 'function') return;
      alerts.recordAck(screenId, ack).then(
        () => reply({ ok: true, data: null }),
        (err: unknown) => {
          if (!(err instanceof AppError)) log.error({ err, screenId }, 'alert ack failed');
          reply(fail(err instanceof AppError ? err.code : 'INTERNAL'));
        },
      );
    });
    await socket.join([rooms.screen(screenId), ...zoneIds.map(rooms.zone)]);
    // zoneIds runs from the screen's own zone up to the city.
    const zoneId = zoneIds[0] ?? '';
    void screenStatus(screenId, zoneId, true);
    // Connecting announced it online already.
    void noteSeen(screenId).catch((err: unknown) => log.warn({ err, screenId }, 'last-seen write failed'));
    socket.on('disconnect', async () => {
      // Another connection of the same screen (a quick reconnect) keeps it online.
      const still = await io.in(rooms.screen(screenId)).fetchSockets();
      if (still.length === 0) await screenStatus(screenId, zoneId, false);
    });
    void pairing.settle(screenId).catch((err: unknown) => log.warn({ err, screenId }, 'pairing settle failed'));
    try {
      const manifest = await manifests.resolve(screenId);
      delivered.set(screenId, manifest.version);
      socket.emit('screen:welcome', { screenId, zoneIds, manifestVersion: manifest.version, serverTime: Date.now() });
    } catch (err) {
      log.error({ err, screenId }, 'welcome failed');
    }
    // Every active alert at once (each counts as an attempt), and the all clears it may have missed.
    try {
      const due = alerts.onConnect(screenId);
      for (const show of due.show) socket.emit('alert:show', show);
      for (const alertId of due.clear) socket.emit('alert:clear', { alertId });
    } catch (err) {
      log.error({ err, screenId }, 'alert send on connect failed');
    }

    socket.on('screen:heartbeat', (beat, ack) => {
      if (typeof ack !== 'function') return;
      ack({ ok: true, data: { serverTime: Date.now() } });
      // Back from a silence the sweep marked offline: staff saw it go, so they see it return.
      void noteSeen(screenId)
        .then((wasOffline) => (wasOffline ? screenStatus(screenId, zoneId, true) : undefined))
        .catch((err: unknown) => log.warn({ err, screenId }, 'last-seen write failed'));
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
        ack(fail('INTERNAL'));
      }
    });
  }

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
    revokeScreen(screenId) {
      io.to(rooms.screen(screenId)).emit('screen:revoked', { screenId });
      io.in(rooms.screen(screenId)).disconnectSockets(true);
    },
    disconnectSession(sessionHash) {
      io.in(sessionRoom(sessionHash)).disconnectSockets(true);
    },
    reportsOf: (screenId) => reports.get(screenId) ?? [],
    // The HTTP server belongs to Fastify, which closes it; here only the transports are cut.
    // No socket.io "disconnect" packet is sent: a client takes that as final and never
    // reconnects, whereas a cut transport makes it retry by RECONNECT_POLICY.
    close: async () => {
      io.engine.close();
    },
  };
}
