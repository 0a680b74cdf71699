/**
 * npm run bench:alert — from the alert API call to each player's acknowledgement arriving back at
 * the server, against a bare Socket.IO room emit with acknowledgement of the same payload over
 * the same sockets, in the same run; and the server's heap per connected player.
 *
 * The server is a child process (`node --expose-gc --import tsx server/main.ts`, fresh DATA_DIR
 * per player count); the simulated players are socket.io-client connections in 2–4 further
 * processes (alert-player-process.ts), because one process holds one file descriptor per socket.
 * Both ends of every latency are read from the machine's one wall clock: t0 = Date.now() here
 * just before the request; the end is the server's Date.now() when the acknowledgement arrived,
 * which the delivery board keeps as `displayedAt` and the bench route returns as `arrivals`.
 *
 *   npm run bench:alert                          1,000 and 10,000 players, 10 rounds each (published figures)
 *   npm run bench:alert -- --smoke               200 players, 2 rounds: does it work
 *   npm run bench:alert -- --players 1000 --reps 10 --procs 3
 *   npm run bench:alert -- --server-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   npm run bench:alert -- --player-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof-players"
 *   BENCH_ECHO=1 npm run bench:alert -- --server-node-args=--trace-gc   (the server's stdout shown too)
 *
 * Only a run with the defaults rewrites bench/results/alert.md. The screens are made through the
 * bench's bulk route, a thousand per store write; connecting them writes each one's "last seen"
 * without copying the screens (see noteSeen in server/services/realtime.ts).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Alert, AlertInput, AlertShow, Delivery } from '../content/index.js';
import { login, type Api } from './lib/api.js';
import { sleep } from './lib/async.js';
import { startFleet, type Fleet } from './lib/alert-fleet.js';
import type { FleetStats } from './lib/alert-protocol.js';
import { breakdownTable, detailsTable, resultsTable, verdicts, type AlertRound, type BareRound, type SizeResult } from './lib/alert-report.js';
import { seedAlertFixture } from './lib/alert-fixture.js';
import { loadAverage, log, startRun } from './lib/machine.js';
import { saveResults } from './lib/results.js';
import { BENCH_ADMIN, startServer } from './lib/server-process.js';
import { fmtMs, summarize } from './lib/stats.js';

const { values: opts } = parseArgs({
  options: {
    players: { type: 'string', default: '1000,10000' },
    reps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    procs: { type: 'string', default: 'auto' },
    smoke: { type: 'boolean', default: false },
    'server-node-args': { type: 'string', default: '' },
    'player-node-args': { type: 'string', default: '' },
  },
});

function whole(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} takes a whole number of at least ${min}, got "${v}"`);
  return n;
}

const PLAYER_COUNTS = (opts.smoke ? '200' : opts.players).split(',').map((s) => whole('players', s.trim(), 2));
const REPS = opts.smoke ? 2 : whole('reps', opts.reps, 1);
const WARMUP = opts.smoke ? 1 : whole('warmup', opts.warmup, 1);
const PROCS = opts.procs === 'auto' ? null : whole('procs', opts.procs, 1);
const SERVER_NODE_ARGS = opts['server-node-args'].split(' ').filter(Boolean);
const PLAYER_NODE_ARGS = opts['player-node-args'].split(' ').filter(Boolean);
const IS_DEFAULT_RUN = !opts.smoke && PLAYER_COUNTS.join(',') === '1000,10000' && REPS === 10 && WARMUP === 1 && PROCS === null && SERVER_NODE_ARGS.length === 0 && PLAYER_NODE_ARGS.length === 0;

/** The issue's target: at this many players the alert's p99 within this multiple of the bare emit's. */
const RATIO_TARGET = 1.5;
const RATIO_AT = 1000;
const ROUND_TIMEOUT_MS = 120_000;
const HARD_LIMIT_MS = 45 * 60_000;
const RESULTS_FILE = fileURLToPath(new URL('./results/alert.md', import.meta.url));


/** 2 processes, more as the count grows (about 5,000 sockets each), at most 4: the cores are shared. */
const processesFor = (players: number) => PROCS ?? Math.min(4, Math.max(2, Math.ceil(players / 5000)));

/** Waits until every acknowledgement the players sent has been answered (so every store write it caused is done). */
async function quiet(fleet: Fleet, timeoutMs = ROUND_TIMEOUT_MS): Promise<FleetStats> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const s = await fleet.stats();
    if (s.acksSent === s.acksOk + s.acksRefused + s.acksTimedOut) return s;
    if (performance.now() > deadline) throw new Error(`acknowledgements still unanswered after ${timeoutMs} ms`);
    await sleep(50);
  }
}

let alertSeq = 0;
/** Bare emits so far: each player process numbers them the same way. */
let bareSeq = 0;

/**
 * One alert to the city (every screen): t0, `POST /api/alerts`, each player acknowledges; the
 * latencies come from the delivery board. The all clear follows, off the clock, so that the
 * alerts of a run do not all stay active.
 */
/** The server's CPU time so far (user + system), in ms. */
async function serverCpuMs(admin: Api): Promise<number> {
  const { user, system } = await admin.get<{ user: number; system: number }>('/api/_bench/cpu');
  return (user + system) / 1000;
}

async function alertRound(admin: Api, fleet: Fleet, cityId: string): Promise<AlertRound> {
  await quiet(fleet);
  await fleet.collect();
  const playersCpu0 = (await fleet.stats()).cpuMs;
  const cpu0 = await serverCpuMs(admin);
  const input: AlertInput = {
    severity: 'extreme',
    // The same length every round: the payload does not change size.
    title: `暴雨红色预警 第${String(++alertSeq).padStart(3, '0')}号`,
    text: '彬州市气象台发布暴雨红色预警信号：预计未来3小时内我市将出现100毫米以上降水，请立即停止户外活动，远离河道、山洪沟和地质灾害隐患点。',
    mediaHash: null,
    targetZoneIds: [cityId],
    ttlMinutes: 30,
  };
  const t0 = Date.now();
  const tp = performance.now();
  const alert = await admin.post<Alert>('/api/alerts', input);
  const responseMs = performance.now() - tp;
  // Asked once; the players answer when they are done, so nothing polls them mid fan-in.
  await fleet.displayed(alert.id, ROUND_TIMEOUT_MS);
  const playersCpuMs = (await quiet(fleet)).cpuMs - playersCpu0;
  const cpuMs = (await serverCpuMs(admin)) - cpu0;
  const sent = (await fleet.sentAt(alert.id)).map((at) => at - t0);
  const board = await admin.get<{ deliveries: Delivery[] }>(`/api/alerts/${alert.id}/deliveries`);
  const latencies: number[] = [];
  for (const d of board.deliveries) if (d.state === 'displayed' && d.displayedAt) latencies.push(Date.parse(d.displayedAt) - t0);
  const trace = await admin.get<Trace>(`/api/_bench/trace?since=${t0}`);
  await admin.post(`/api/alerts/${alert.id}/clear`);
  const emit = trace.broadcasts.find((b) => b.event === 'alert:show' && !b.acked);
  const emitAt = emit?.start ?? Number.NaN;
  // The alert's own writes, which the emit waits for: its board in the delivery journal and the
  // alert in the store, committed once the board is durable.
  const before = trace.writes.filter((w) => w.end <= emitAt).sort((a, b) => a.start - b.start);
  const lastAck = t0 + Math.max(...latencies);
  const fanIn = trace.writes.filter((w) => w.start >= emitAt && w.start <= lastAck);
  const gcMs = trace.gcs.filter((g) => g.start <= lastAck).reduce((sum, g) => sum + (g.end - g.start), 0);
  return {
    latencies,
    displayed: latencies.length,
    responseMs,
    createdMs: Date.parse(alert.createdAt) - t0,
    emitMs: emitAt - t0,
    emitLoopMs: emit ? emit.end - emit.start : Number.NaN,
    createWriteMs: before.length > 0 ? Math.max(...before.map((w) => w.end)) - Math.min(...before.map((w) => w.start)) : Number.NaN,
    cpuMs,
    playersCpuMs,
    gcMs,
    sent,
    fanInWrites: fanIn.length,
    fanInWriteMs: fanIn.reduce((sum, w) => sum + (w.end - w.start), 0),
  };
}

/** The baseline: the same payload as one room emit with acknowledgement to the same room (the city's). */
async function bareRound(admin: Api, fleet: Fleet, cityId: string, payload: AlertShow): Promise<BareRound> {
  await quiet(fleet);
  await fleet.collect();
  const playersCpu0 = (await fleet.stats()).cpuMs;
  const cpu0 = await serverCpuMs(admin);
  const t0 = Date.now();
  const res = await admin.post<{ startedAt: number; expected: number; arrivals: number[]; timedOut: boolean }>('/api/_bench/emit-ack', {
    zoneId: cityId,
    payload,
    timeoutMs: ROUND_TIMEOUT_MS,
  });
  const cpuMs = (await serverCpuMs(admin)) - cpu0;
  const playersCpuMs = (await quiet(fleet)).cpuMs - playersCpu0;
  const sent = (await fleet.sentAt(`bare#${++bareSeq}`)).map((at) => at - t0);
  const trace = await admin.get<Trace>(`/api/_bench/trace?since=${t0}`);
  const emit = trace.broadcasts.find((b) => b.acked);
  const lastAck = Math.max(...res.arrivals);
  const gcMs = trace.gcs.filter((g) => g.start <= lastAck).reduce((sum, g) => sum + (g.end - g.start), 0);
  return {
    latencies: res.arrivals.map((a) => a - t0),
    acknowledged: res.arrivals.length,
    reached: res.expected,
    cpuMs,
    playersCpuMs,
    gcMs,
    sent,
    emitMs: emit ? emit.start - t0 : Number.NaN,
    emitLoopMs: emit ? emit.end - emit.start : Number.NaN,
  };
}

/** GET /api/_bench/trace: the server's store writes and room emits, epoch ms with fractions. */
interface Trace {
  writes: { start: number; end: number; ok: boolean; target: 'store' | 'journal' }[];
  broadcasts: { start: number; end: number; event: string; acked: boolean }[];
  gcs: { start: number; end: number }[];
}

interface Heap {
  gc: boolean;
  heapUsed: number;
  rss: number;
  sockets: number;
  storeBytes: number;
  journalBytes: number;
}

async function runPlayers(players: number, problems: Map<string, number>): Promise<SizeResult> {
  const processes = processesFor(players);
  bareSeq = 0;
  log(`${players} players: starting the server`);
  // The simulated players send no heartbeats; the offline sweep must not mark them offline mid-run.
  process.env.ZONECAST_OFFLINE_AFTER_S = String(24 * 3600);
  const server = await startServer({ nodeArgs: ['--expose-gc', ...SERVER_NODE_ARGS], readyTimeoutMs: 60_000 });
  let fleet: Fleet | null = null;
  try {
    const admin = await login(server.url, BENCH_ADMIN.username, BENCH_ADMIN.password);
    const ts = performance.now();
    const fixture = await seedAlertFixture(admin, players, { concurrency: 2, progress: (n) => log(`  ${n} screens created`) });
    const seedMs = performance.now() - ts;
    log(`  seeded 1 city, 1 town, ${players} screens in ${(seedMs / 1000).toFixed(1)} s`);

    fleet = startFleet(fixture.screens, processes, PLAYER_NODE_ARGS);
    await sleep(1000);
    const before = await admin.get<Heap>('/api/_bench/heap');
    const { connected, ms: connectMs } = await fleet.connect(server.url, { concurrency: 50, timeoutMs: 60_000, progress: (n) => log(`  ${n} players connected`) });
    await quiet(fleet);
    // Let the connection's own writes (last seen) settle before the heap is read.
    await sleep(2000);
    const after = await admin.get<Heap>('/api/_bench/heap');
    if (!after.gc) log('  warning: the server has no gc(); the heap figures include garbage');
    if (after.sockets !== players) problems.set(`${players} players: ${after.sockets} sockets on the server`, 1);
    const heapPerPlayer = (after.heapUsed - before.heapUsed) / connected;
    const rssPerPlayer = (after.rss - before.rss) / connected;
    log(
      `  ${connected} players in ${processes} processes connected in ${(connectMs / 1000).toFixed(1)} s; ` +
        `heap ${(before.heapUsed / 2 ** 20).toFixed(1)} → ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB (${(heapPerPlayer / 1024).toFixed(1)} KiB per player)`,
    );

    const alerts: AlertRound[] = [];
    const bares: BareRound[] = [];
    const started = performance.now();
    for (let i = 0; i < WARMUP; i++) await alertRound(admin, fleet, fixture.cityId);
    const payload = (await fleet.stats()).lastShow;
    if (!payload) throw new Error('no player got the warm-up alert');
    for (let i = 0; i < WARMUP; i++) await bareRound(admin, fleet, fixture.cityId, payload);
    for (let rep = 0; rep < REPS; rep++) {
      // Alternate which goes first, so that drift (GC, a growing store) falls on both alike.
      const order = rep % 2 === 0 ? (['alert', 'bare'] as const) : (['bare', 'alert'] as const);
      for (const what of order) {
        if (what === 'alert') {
          const r = await alertRound(admin, fleet, fixture.cityId);
          alerts.push(r);
          log(`  alert ${alerts.length}: ${r.displayed}/${players} displayed, p50 ${fmtMs(summarize(r.latencies).p50)} p99 ${fmtMs(summarize(r.latencies).p99)} ms; emit at ${fmtMs(r.emitMs)}, loop ${fmtMs(r.emitLoopMs)}, server GC ${fmtMs(r.gcMs)}, players sent p99 ${fmtMs(summarize(r.sent).p99)} ms`);
        } else {
          const r = await bareRound(admin, fleet, fixture.cityId, payload);
          bares.push(r);
          log(`  bare  ${bares.length}: ${r.acknowledged}/${r.reached} acknowledged, p50 ${fmtMs(summarize(r.latencies).p50)} p99 ${fmtMs(summarize(r.latencies).p99)} ms`);
        }
        await sleep(200);
      }
    }
    log(`  ${REPS} rounds of each in ${((performance.now() - started) / 1000).toFixed(0)} s`);

    const end = await quiet(fleet);
    const last = await admin.get<Heap>('/api/_bench/heap');
    for (const [what, n] of Object.entries(end.problems)) problems.set(`${players} players: ${what}`, n);
    if (end.acksTimedOut > 0) problems.set(`${players} players: alert:ack unanswered within 10 s`, end.acksTimedOut);
    return {
      players,
      processes,
      alerts,
      bares,
      payloadBytes: Buffer.byteLength(JSON.stringify(payload)),
      heapPerPlayer,
      rssPerPlayer,
      heapBefore: before.heapUsed,
      heapAfter: after.heapUsed,
      gc: after.gc,
      connectMs,
      seedMs,
      storeBytesBefore: after.storeBytes,
      storeBytesAfter: last.storeBytes,
      journalBytesAfter: last.journalBytes,
    };
  } finally {
    await fleet?.close();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const { machine, date, loadBefore } = startRun('bench:alert', HARD_LIMIT_MS);
  log(`${REPS} rounds (+${WARMUP} warm-up) of each, players: ${PLAYER_COUNTS.join(', ')}`);

  const problems = new Map<string, number>();
  const results: SizeResult[] = [];
  for (const n of PLAYER_COUNTS) results.push(await runPlayers(n, problems));

  const table = resultsTable(results);
  const breakdown = breakdownTable(results);
  const details = detailsTable(results);
  const verdict = [
    ...verdicts(results, RATIO_TARGET, RATIO_AT),
    ...(problems.size === 0 ? ['No dropped socket, refused or unanswered acknowledgement.'] : [...problems].map(([what, n]) => `Problem — ${what}: ${n}`)),
  ];
  const load = `1-minute load average ${loadBefore} at the start, ${loadAverage()} at the end (the bench's own server and players account for up to 2)`;
  console.log(`\n${table}\n\n${breakdown}\n\n${details}\n\n${verdict.map((v) => `- ${v}`).join('\n')}\n\nMachine: ${machine}; ${load}`);

  const doc = [
    '# bench:alert — urgent alert vs bare emit with acknowledgement',
    '',
    `Run ${date} with \`npm run bench:alert\` on: ${machine}; ${load}.`,
    '',
    `Milliseconds; ${REPS} rounds of each per row after ${WARMUP} warm-up round, percentiles (nearest-rank) over every player of every round. ` +
      '**alert** is from just before `POST /api/alerts` (an extreme alert to the city, i.e. every screen) to the arrival at the server ' +
      'of each player’s `alert:ack` *displayed*, as the delivery board records it (`displayedAt`). **bare** is from just before ' +
      '`POST /api/_bench/emit-ack` to the arrival at the server of each player’s acknowledgement of a Socket.IO room emit with ' +
      'acknowledgement (the path `io.timeout(ms).to(room).emit(…, cb)` takes) of the same `alert:show` payload to the same room, ' +
      'answered at once with the object a *displayed* acknowledgement carries. Both ends are the same wall clock. Ratio is ' +
      'alert ÷ bare at the same percentile. Heap per player is the server’s `heapUsed` after a full GC with every player ' +
      'connected, less the same before any connected, divided by the players.',
    '',
    table,
    '',
    '### Where the time goes',
    '',
    'From the server’s own trace (`GET /api/_bench/trace`: every store and delivery-journal write and every room emit, timed): ' +
      'milliseconds, p50 over rounds except “emit → ack”, which is over every player of every round, measured from the start of ' +
      'each round’s emit. “Its writes” span the alert’s board in the delivery journal and the alert in the store (committed ' +
      'once the board is durable), from the first call to the last made durable, which the emit waits for. “Emit loop” is the synchronous encode-and-write of the one packet to every socket. ' +
      '“Writes during the fan-in” are the acknowledgement batches appended to the journal while acknowledgements arrive. ' +
      '“Players sent” is when the simulated players sent their acknowledgement (same machine, same clock), which splits a ' +
      'latency into the players’ part and the server’s. “Server GC” is the server’s garbage-collection pauses from t0 to the ' +
      'last acknowledgement. “CPU per round” is the CPU time of the server process, and of the player processes together, ' +
      'from just before the request until every acknowledgement was answered (for the alert, that includes the answers, ' +
      'sent after the fan-in, and the players’ handling of them).',
    '',
    breakdown,
    '',
    details,
    '',
    ...verdict.map((v) => `- ${v}`),
    '',
    'Set-up: 1 city and 1 town holding every screen, on one full-screen layout playing the zones’ 4 notices, so that ' +
      'each screen has an ordinary manifest; the screens are made a thousand per store write by the bench’s bulk route. The ' +
      'simulated players answer an alert as the player does, minus the frame: `alert:ack` *displayed* at once, and *received* ' +
      'only for an alert not displayed within `ALERT_POLICY.receivedAckAfterMs` (never here), with `timeout(10 s).emitWithAck`; ' +
      'they send no heartbeats (so the offline sweep is set beyond the run). Before each round every player process runs a ' +
      'full garbage collection, so that the garbage of its hundreds of simulated devices from earlier rounds is not collected ' +
      'in the middle of a later one (a real player is a device of its own); the server is left alone. ' +
      'Each alert gets its all clear after it is measured, ' +
      'off the clock; its deliveries stay in the delivery journal, as they do in service. The server is a child process (`node --expose-gc --import tsx ' +
      'server/main.ts`, `LOG_LEVEL=warn`, fresh `DATA_DIR`, housekeeping jobs on, so alert retries run); the players are ' +
      'socket.io-client WebSocket connections in separate processes, which share the two cores with the server. Absolute ' +
      'times therefore depend on the machine and its load; the ratios, taken in the same run over the same sockets, are the ' +
      'comparable figure.',
    '',
  ].join('\n');
  await saveResults(RESULTS_FILE, doc, IS_DEFAULT_RUN, log);
  if (problems.size > 0 || results.some((r) => r.alerts.some((a) => a.displayed < r.players))) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error('bench:alert failed:', err);
  process.exit(1);
});
