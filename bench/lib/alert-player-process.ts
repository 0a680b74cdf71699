/**
 * A process of simulated players for `npm run bench:alert`, started by alert-fleet.ts with an
 * IPC channel. Each player is one socket.io-client WebSocket with its screen's device token and
 * answers an alert as the real player does (player/src/alerts.ts): `alert:ack` 'displayed' once
 * it is displayed (here at once: a simulated player has no frame to wait for), and 'received'
 * only if it has not displayed the alert ALERT_POLICY.receivedAckAfterMs after it arrived (so
 * never here), with `timeout(10 s).emitWithAck`; a repeat of a revision it displayed is
 * acknowledged 'displayed' again. An `alert:show` that carries an
 * acknowledgement callback is the bench's bare emit, answered with the same object a
 * 'displayed' acknowledgement carries.
 */
import { io, type Socket } from 'socket.io-client';
import { SOCKET_PATH, type AlertAck, type AlertShow, type ClientToServerEvents, type ServerToClientEvents } from '../../content/index.js';
import type { FleetScreen, FleetStats, FromPlayers, ToPlayers } from './alert-protocol.js';
import { mapLimit } from './async.js';

type ScreenSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const ACK_TIMEOUT_MS = 10_000;

const sockets: ScreenSocket[] = [];
let closing = false;
let connected = 0;
let shows = 0;
let bareAcks = 0;
let acksSent = 0;
let acksOk = 0;
let acksRefused = 0;
let acksTimedOut = 0;
const displayedBy: Record<string, number> = {};
const sentAt: Record<string, number[]> = {};
const noteSent = (key: string, at: number) => (sentAt[key] ??= []).push(at);
let lastShow: AlertShow | null = null;
const problems: Record<string, number> = {};
/**
 * Requests waiting for every player here to have displayed an alert. The bench asks once per
 * round and hears back when it is done, rather than polling this process in the middle of the
 * fan-in it measures (the bare round's wait is the server's HTTP response, which needs no polling).
 */
const awaiting = new Map<string, { id: number; timer: ReturnType<typeof setTimeout> }[]>();

function answerAwaiting(alertId: string, force = false): void {
  const list = awaiting.get(alertId);
  if (!list || (!force && (displayedBy[alertId] ?? 0) < sockets.length)) return;
  awaiting.delete(alertId);
  for (const w of list) {
    clearTimeout(w.timer);
    send({ id: w.id, type: 'displayed', count: displayedBy[alertId] ?? 0 });
  }
}

function problem(what: string): void {
  problems[what] = (problems[what] ?? 0) + 1;
}

function send(msg: FromPlayers): void {
  process.send?.(msg);
}

function sendAck(socket: ScreenSocket, ack: AlertAck): void {
  acksSent++;
  socket
    .timeout(ACK_TIMEOUT_MS)
    .emitWithAck('alert:ack', ack)
    .then(
      (res) => {
        if (res.ok) acksOk++;
        else {
          acksRefused++;
          problem(`alert:ack refused: ${res.code}`);
        }
      },
      () => acksTimedOut++,
    );
}

function connectOne(url: string, screen: FleetScreen, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // forceNew: each player its own connection, as separate devices are. No reconnection: a drop
    // during the bench is a finding.
    const socket: ScreenSocket = io(url, {
      path: SOCKET_PATH,
      auth: { token: screen.token },
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: timeoutMs,
    });
    sockets.push(socket);
    // The revision of each alert this player has displayed, and how many bare emits it answered.
    const displayed = new Map<string, number>();
    let bares = 0;
    const timer = setTimeout(() => reject(new Error(`no welcome for ${screen.screenId} within ${timeoutMs} ms`)), timeoutMs);
    socket.once('screen:welcome', (welcome) => {
      clearTimeout(timer);
      if (welcome.screenId !== screen.screenId) problem('welcomed as another screen');
      connected++;
      resolve();
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('alert:show', (show: AlertShow, ...rest: unknown[]) => {
      const bare = rest[0];
      if (typeof bare === 'function') {
        bareAcks++;
        const answer: AlertAck = { alertId: show.alertId, revision: show.revision, stage: 'displayed', at: Date.now() };
        (bare as (a: AlertAck) => void)(answer);
        // Every socket sees every bare emit, in the same order.
        noteSent(`bare#${++bares}`, answer.at);
        return;
      }
      shows++;
      lastShow = show;
      const { alertId, revision } = show;
      if ((displayed.get(alertId) ?? 0) >= revision) {
        sendAck(socket, { alertId, revision, stage: 'displayed', at: Date.now() });
        return;
      }
      // Displayed at once, so well within ALERT_POLICY.receivedAckAfterMs: as the player then
      // does, it acknowledges 'displayed' only.
      displayed.set(alertId, revision);
      displayedBy[alertId] = (displayedBy[alertId] ?? 0) + 1;
      const at = Date.now();
      sendAck(socket, { alertId, revision, stage: 'displayed', at });
      noteSent(alertId, at);
      answerAwaiting(alertId);
    });
    socket.on('disconnect', (reason) => {
      if (!closing) problem(`socket dropped (${reason})`);
    });
  });
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function stats(): FleetStats {
  return { connected, shows, bareAcks, acksSent, acksOk, acksRefused, acksTimedOut, displayedBy: { ...displayedBy }, cpuMs: cpuMs(), lastShow, problems: { ...problems } };
}

process.on('message', (raw: unknown) => {
  const msg = raw as ToPlayers;
  const { id } = msg;
  if (msg.type === 'connect') {
    const t0 = performance.now();
    mapLimit(msg.screens, msg.concurrency, (s) => connectOne(msg.url, s, msg.timeoutMs)).then(
      () => send({ id, type: 'connected', count: connected, ms: performance.now() - t0 }),
      (err: unknown) => send({ id, type: 'failed', message: (err as Error).message }),
    );
  } else if (msg.type === 'await-displayed') {
    const list = awaiting.get(msg.alertId) ?? [];
    list.push({ id, timer: setTimeout(() => answerAwaiting(msg.alertId, true), msg.timeoutMs) });
    awaiting.set(msg.alertId, list);
    answerAwaiting(msg.alertId);
  } else if (msg.type === 'stats') {
    send({ id, type: 'stats', stats: stats() });
  } else if (msg.type === 'collect') {
    globalThis.gc?.();
    send({ id, type: 'collected' });
  } else if (msg.type === 'sent') {
    send({ id, type: 'sent', at: sentAt[msg.key] ?? [] });
    delete sentAt[msg.key];
  } else {
    closing = true;
    for (const s of sockets) s.close();
    // Let the close frames go out before the process ends.
    setTimeout(() => process.exit(0), 200);
  }
});

// The bench went away (crashed, killed): no player outlives it.
process.on('disconnect', () => process.exit(1));
