import { io, type Socket } from 'socket.io-client';
import { reactive } from 'vue';
import { awaitLogin } from './auth-gate.js';
import { RECONNECT_POLICY, SOCKET_PATH, isWithin, type ClientToServerEvents, type ScreenStatus, type ServerToClientEvents, type Zone } from '../../content/index.js';

/** A screen's last known state and when it last changed (null: it already was so when we started watching). */
export interface ScreenLive {
  readonly online: boolean;
  readonly at: number | null;
}

/**
 * Live screen state for the zones the user watches: the socket authenticates with the session
 * cookie, `screens:watch` answers with who is online now, and `screen:status` pushes every
 * change after that. No polling.
 */
export const live = reactive({
  state: 'off' as 'off' | 'connecting' | 'live' | 'error',
  /** Zones being watched; their rooms cover every zone below them. */
  roots: [] as string[],
  screens: new Map<string, ScreenLive>(),
});

let socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;
const statusListeners = new Set<(status: ScreenStatus) => void>();

/** Calls `fn` on every status change (a page notices a screen it has not listed yet); returns the unsubscribe. */
export function onScreenStatus(fn: (status: ScreenStatus) => void): () => void {
  statusListeners.add(fn);
  return () => statusListeners.delete(fn);
}

/**
 * The staff socket once startLive has opened it (null before), for a page that watches something
 * of its own on it, such as an alert's delivery board, with its own listeners.
 */
export function staffSocket(): Socket<ServerToClientEvents, ClientToServerEvents> | null {
  return socket;
}

async function watchAll(s: Socket<ServerToClientEvents, ClientToServerEvents>): Promise<void> {
  try {
    const answers = await Promise.all(live.roots.map((zoneId) => s.timeout(5000).emitWithAck('screens:watch', { zoneId })));
    live.screens.clear();
    for (const answer of answers) {
      if (!answer.ok) throw new Error(answer.code);
      for (const id of answer.data.online) live.screens.set(id, { online: true, at: null });
    }
    live.state = 'live';
  } catch {
    live.state = 'error';
  }
}

/** Connects (once) and watches `roots`; every reconnect watches again and starts from a fresh list. */
export function startLive(roots: readonly string[]): void {
  live.roots = [...roots];
  if (socket) {
    if (socket.connected) void watchAll(socket);
    else socket.connect();
    return;
  }
  live.state = 'connecting';
  const s: Socket<ServerToClientEvents, ClientToServerEvents> = io({ path: SOCKET_PATH, withCredentials: true, ...RECONNECT_POLICY });
  socket = s;
  s.on('connect', () => void watchAll(s));
  s.on('disconnect', () => {
    live.state = s.active ? 'connecting' : 'error';
  });
  s.on('connect_error', (err: Error & { data?: unknown }) => {
    live.state = s.active ? 'connecting' : 'error';
    // A handshake refused for want of a session is not retried by socket.io: ask for a login,
    // after which the dialog reconnects (restartLive).
    const code = refusalCode(err);
    if (!s.active && code) void awaitLogin(code);
  });
  s.on('screen:status', (status) => {
    live.screens.set(status.screenId, { online: status.online, at: status.at });
    for (const fn of statusListeners) fn(status);
  });
}

/** The session error a refused handshake carries, in its message or in its data (an ErrorBody). */
function refusalCode(err: Error & { data?: unknown }): string | null {
  const data = err.data;
  const fromData = data !== null && typeof data === 'object' && 'code' in data && typeof data.code === 'string' ? data.code : '';
  return [fromData, err.message].find((c) => c === 'AUTH_REQUIRED' || c === 'SESSION_EXPIRED') ?? null;
}

/** After a new login the session cookie changed: reconnect so the socket carries it. */
export function restartLive(): void {
  if (!socket) return;
  live.state = 'connecting';
  socket.disconnect().connect();
}

/**
 * The live state of a screen: online or offline when its zone is watched, null (unknown) when
 * it lies outside the watched subtrees or live updates are down.
 */
export function screenLive(screen: { readonly id: string; readonly zoneId: string }, zonesById: ReadonlyMap<string, Zone>): ScreenLive | null {
  if (live.state !== 'live') return null;
  if (!live.roots.some((root) => isWithin(screen.zoneId, root, zonesById))) return null;
  return live.screens.get(screen.id) ?? { online: false, at: null };
}
