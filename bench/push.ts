/**
 * npm run bench:push — how long a change takes to reach the players it affects, against a bare
 * Socket.IO broadcast of the same size to the same sockets, measured in one run.
 *
 * The server runs as a child process (`node --import tsx server/main.ts`, fresh DATA_DIR per
 * player count); the simulated players are socket.io-client connections in this process, so the
 * start of each change and each receipt are read from one clock (`performance.now()` here).
 *
 * Knobs (defaults give the published figures): BENCH_REPS=100, BENCH_WARMUP=5,
 * BENCH_PLAYERS=100,1000, BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
 * Only a run with the defaults rewrites bench/results/push.md.
 */
import { fileURLToPath } from 'node:url';
import { saveResults } from './lib/results.js';
import { login, type Api } from './lib/api.js';
import { mapLimit, sleep } from './lib/async.js';
import { loadAverage, log, startRun } from './lib/machine.js';
import { seedFixture, type EditableNotice, type Fixture } from './lib/fixture.js';
import { SimulatedPlayer, heldManifestProblem, pushBytes } from './lib/players.js';
import { detailsTable, resultsTable, violationsText, type ChangeResult } from './lib/report.js';
import { BENCH_ADMIN, startServer } from './lib/server-process.js';
import { summarize } from './lib/stats.js';
import { Tracker } from './lib/tracker.js';

function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${v}"`);
  return n;
}

const REPS = envInt('BENCH_REPS', 100);
const WARMUP = envInt('BENCH_WARMUP', 5);
const PLAYER_COUNTS = (process.env.BENCH_PLAYERS || '100,1000').split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 2) throw new Error(`BENCH_PLAYERS takes counts of at least 2, got "${s}"`);
  return n;
});
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const IS_DEFAULT_RUN = REPS === 100 && WARMUP === 5 && PLAYER_COUNTS.join(',') === '100,1000' && SERVER_NODE_ARGS.length === 0;
const ROUND_TIMEOUT_MS = 15_000;
const HARD_LIMIT_MS = 12 * 60_000;
const RESULTS_FILE = fileURLToPath(new URL('./results/push.md', import.meta.url));

interface ChangeSpec {
  readonly name: ChangeResult['change'];
  readonly notice: EditableNotice;
  /** The zone whose room the bare broadcast goes to: the same players the change affects. */
  readonly roomZoneId: string;
  readonly affected: ReadonlySet<SimulatedPlayer>;
}

let pingSeq = 0;
let edits = 0;

/**
 * One change: the admin edits the notice's title and submits the edit, which screens do not see
 * (off the clock); the reviewer approves it, and every affected player must come to hold it.
 */
async function pushRound({ staff }: Fixture, tracker: Tracker, spec: ChangeSpec): Promise<{ latency: number; response: number } | null> {
  const title = `${spec.notice.input.title}(第${++edits}次更正)`;
  await staff.admin.put(`/api/content/${spec.notice.id}`, { ...spec.notice.input, title });
  await staff.admin.post(`/api/content/${spec.notice.id}/submit`);
  tracker.begin({ kind: 'manifest', noticeId: spec.notice.id, title }, spec.affected);
  const t0 = performance.now();
  await staff.reviewer.post(`/api/content/${spec.notice.id}/approve`);
  const response = performance.now() - t0;
  const lastAt = await tracker.end(ROUND_TIMEOUT_MS);
  // Off the clock: each affected player's manifest must be its own and hash to its version.
  for (const p of spec.affected) {
    const problem = heldManifestProblem(p);
    if (problem) tracker.violation(problem);
  }
  return lastAt === null ? null : { latency: lastAt - t0, response };
}

/** The baseline: one bare broadcast of `bytes` to the room that holds exactly the affected players. */
async function bareRound(api: Api, tracker: Tracker, spec: ChangeSpec, bytes: number): Promise<number | null> {
  const seq = ++pingSeq;
  tracker.begin({ kind: 'ping', seq }, spec.affected);
  const t0 = performance.now();
  await api.post('/api/_bench/broadcast', { zoneId: spec.roomZoneId, seq, bytes });
  const lastAt = await tracker.end(ROUND_TIMEOUT_MS);
  return lastAt === null ? null : lastAt - t0;
}

async function measureChange(fixture: Fixture, tracker: Tracker, players: number, spec: ChangeSpec): Promise<ChangeResult> {
  const api = fixture.staff.admin;
  const started = performance.now();
  for (let i = 0; i < WARMUP; i++) await pushRound(fixture, tracker, spec);
  let total = 0;
  for (const p of spec.affected) total += pushBytes(p);
  const payloadBytes = Math.round(total / spec.affected.size);
  for (let i = 0; i < WARMUP; i++) await bareRound(api, tracker, spec, payloadBytes);

  const push: number[] = [];
  const bare: number[] = [];
  const responses: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    // Alternate which goes first, so that drift (GC, page cache) falls on both alike.
    const order = rep % 2 === 0 ? (['push', 'bare'] as const) : (['bare', 'push'] as const);
    for (const what of order) {
      if (what === 'push') {
        const r = await pushRound(fixture, tracker, spec);
        if (r) {
          push.push(r.latency);
          responses.push(r.response);
        }
      } else {
        const ms = await bareRound(api, tracker, spec, payloadBytes);
        if (ms !== null) bare.push(ms);
      }
      await sleep(5);
    }
  }
  const result: ChangeResult = {
    players,
    change: spec.name,
    affected: spec.affected.size,
    push: summarize(push),
    bare: summarize(bare),
    changeResponse: summarize(responses),
    payloadBytes,
  };
  log(
    `  ${spec.name}: push p50 ${result.push.p50.toFixed(1)} ms, bare p50 ${result.bare.p50.toFixed(1)} ms ` +
      `(${((performance.now() - started) / 1000).toFixed(0)} s)`,
  );
  return result;
}

async function runPlayers(players: number, violations: Map<string, number>): Promise<ChangeResult[]> {
  log(`${players} players: starting the server`);
  const server = await startServer({ nodeArgs: SERVER_NODE_ARGS });
  const tracker = new Tracker();
  const all: SimulatedPlayer[] = [];
  try {
    const admin = await login(server.url, BENCH_ADMIN.username, BENCH_ADMIN.password);
    const t0 = performance.now();
    const fixture = await seedFixture(admin, players);
    log(`  seeded 1 city, 2 towns, ${players} screens in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    for (const s of fixture.screens) all.push(new SimulatedPlayer(s, server.url, tracker));
    const t1 = performance.now();
    await mapLimit(all, 50, (p) => p.connect(30_000));
    log(`  ${all.length} players connected in ${((performance.now() - t1) / 1000).toFixed(1)} s`);

    const specs: ChangeSpec[] = [
      { name: 'city-wide', notice: fixture.cityNotice, roomZoneId: fixture.cityId, affected: new Set(all) },
      { name: 'town-only', notice: fixture.townNotice, roomZoneId: fixture.townIds.A, affected: new Set(all.filter((p) => p.screen.town === 'A')) },
    ];
    const results: ChangeResult[] = [];
    for (const spec of specs) results.push(await measureChange(fixture, tracker, players, spec));

    // Late pushes to town B would land here as violations; then every player's version must be
    // the server's, read through the player's own fetch path.
    await sleep(250);
    const stale = (
      await mapLimit(all, 20, async (p) => {
        const m = await p.fetchManifest();
        return m.version === p.version ? 0 : 1;
      })
    ).reduce<number>((a, b) => a + b, 0);
    if (stale > 0) tracker.violation('player holds a version other than the server’s at the end', stale);
    return results;
  } finally {
    for (const p of all) p.close();
    await server.stop();
    for (const [what, n] of tracker.violations) violations.set(`${players} players: ${what}`, n);
  }
}

async function main(): Promise<void> {
  const { machine, date, loadBefore } = startRun('bench:push', HARD_LIMIT_MS);
  log(`${REPS} repetitions (+${WARMUP} warm-up) per change, players: ${PLAYER_COUNTS.join(', ')}`);

  const violations = new Map<string, number>();
  const results: ChangeResult[] = [];
  for (const n of PLAYER_COUNTS) results.push(...(await runPlayers(n, violations)));

  const table = resultsTable(results);
  const details = detailsTable(results);
  const verdict = violationsText(violations);
  const load = `1-minute load average ${loadBefore} at the start, ${loadAverage()} at the end (the bench's own server and players account for up to 2)`;
  console.log(`\n${table}\n\n${details}\n\n${verdict}\n\nMachine: ${machine}; ${load}`);

  const doc = [
    '# bench:push — manifest push vs bare broadcast',
    '',
    `Run ${date} with \`npm run bench:push\` on: ${machine}; ${load}.`,
    '',
    `Milliseconds, ${REPS} repetitions per row after ${WARMUP} warm-up rounds; percentiles are nearest-rank. ` +
      '**push** is from just before the HTTP change (the reviewer’s approval of an edited notice; the edit and its ' +
      'submission, which screens never see, come before) to the moment the last affected player holds its new ' +
      'manifest; **bare** is from just before `POST /api/_bench/broadcast` to the moment the last player in the same room has ' +
      'a `bench:ping` padded to the mean manifest payload. Ratio is push ÷ bare at the same percentile.',
    '',
    table,
    '',
    details,
    '',
    verdict,
    '',
    'Set-up: 1 city and 2 towns; half the screens in each town, all on one layout whose only region plays a rule ' +
      'playlist of notices with scope `ancestors`; 4 notices per zone. City-wide = edit and approve a city notice (all screens ' +
      'affected; baseline room `zone:<city>`); town-only = edit and approve a town A notice (town A screens affected; baseline room ' +
      '`zone:<town A>`). The server is a child process (`node --import tsx server/main.ts`, `LOG_LEVEL=warn`, fresh ' +
      '`DATA_DIR`, so every change includes its fsynced store write); the players are socket.io-client WebSocket ' +
      'connections in the bench process, which shares the CPU cores with the server. Absolute times therefore depend on ' +
      'the machine; the ratios, taken in the same run over the same sockets, are the comparable figure.',
    '',
  ].join('\n');
  await saveResults(RESULTS_FILE, doc, IS_DEFAULT_RUN, log);
  if (violations.size > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error('bench:push failed:', err);
  process.exit(1);
});
