/**
 * npm run bench:player — how long a player takes from a cold browser start to its first frame
 * of content, with the server up (online) and with the server down (offline).
 *
 * The server is the demo city over HTTPS with a throw-away certificate for the name
 * `zonecast.test`, which Chromium maps to 127.0.0.1 and whose key it trusts, so the player runs
 * on a secure origin that is not localhost, as on a LAN. One screen is made always open and
 * paired once in a fresh Chromium profile; the bench waits until that profile holds everything a
 * start without the server needs (service worker with the app shell, verified media, manifest).
 * Then each run launches a new Chromium process (headless, SwiftShader WebGL) on that profile,
 * opens /player/ without a token, and reads the `zonecast:first-frame` mark, which is relative to
 * navigation start. Online and offline runs alternate in pairs (ON OFF, OFF ON, …), so that both
 * see the same machine; the server is closed for the offline runs, so its port refuses
 * connections.
 *
 * Knobs (defaults give the published figures): BENCH_RUNS=20 (per condition), BENCH_WARMUP=1
 * (untimed pairs first), BENCH_SCREEN=scr-chengguan (a demo screen), BENCH_LIMIT_S=1200 (hard
 * stop). Only a run with the defaults rewrites bench/results/player.md. Exit code 1 when a run
 * failed or a player showed the wrong thing.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../content/index.js';
import { sleep } from './lib/async.js';
import { coldStart, firstPage, launchProfile, offlineReadiness, playerState, type ColdStartSample, type PlayerProfile } from './lib/cold-start-run.js';
import { startColdStartServer, type ColdStartServer } from './lib/cold-start-server.js';
import { makeCertificate } from './lib/cold-start-tls.js';
import { describeMachine, loadAverage } from './lib/machine.js';
import { buildPlayer } from './lib/player-build.js';
import { fmtMs, fmtRatio, summarize, type Summary } from './lib/stats.js';

function envInt(name: string, dflt: number, min: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number ≥ ${min}, got "${v}"`);
  return n;
}

const RUNS = envInt('BENCH_RUNS', 20, 1);
const WARMUP = envInt('BENCH_WARMUP', 1, 0);
const SCREEN = process.env.BENCH_SCREEN || 'scr-chengguan';
const LIMIT_MS = envInt('BENCH_LIMIT_S', 1200, 60) * 1000;
const IS_DEFAULT_RUN = RUNS === 20 && WARMUP === 1 && SCREEN === 'scr-chengguan';
const RESULTS_FILE = fileURLToPath(new URL('./results/player.md', import.meta.url));
const HOST = 'zonecast.test';
const MEDIA_CACHE = 'zonecast-media-v1';
const RUN_TIMEOUT_MS = 60_000;

type Condition = 'online' | 'offline';

const log = (msg: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${msg}`);

// Whatever ends the bench, its temp directory (certificate, data, profile) goes with it;
// playwright-core ends the browsers it launched when this process exits.
const workDir = mkdtempSync(path.join(tmpdir(), 'zonecast-bench-player-'));
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    process.exit(130);
  });
}

function chromiumVersion(): string {
  try {
    return execFileSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'Chromium (version unknown)';
  }
}

/** Pairs the screen in a fresh profile and waits until a start without the server would work. */
async function warmProfile(profile: PlayerProfile, origin: string, server: ColdStartServer, manifest: Manifest): Promise<string> {
  const context = await launchProfile(profile);
  try {
    const page = await firstPage(context);
    page.on('pageerror', (e) => console.error(`[player page error] ${e.message}`));
    await page.goto(`${origin}/player/?token=${encodeURIComponent(server.token)}`);
    const wanted = manifest.assets.map((a) => new URL(a.url, origin).href).sort();
    const deadline = Date.now() + 120_000;
    for (;;) {
      const ready = await offlineReadiness(page, MEDIA_CACHE).catch(() => null);
      if (ready?.worker === 'activated' && ready.savedVersion === manifest.version && ready.cached.join('\n') === wanted.join('\n')) break;
      if (Date.now() > deadline) throw new Error(`the profile did not get ready for offline starts: ${JSON.stringify(ready)}`);
      await sleep(500);
    }
    return (await playerState(page)).build;
  } finally {
    await context.close();
  }
}

/** What is wrong with a run's outcome, if anything. */
function problemsOf(sample: ColdStartSample, condition: Condition, manifest: Manifest, build: string): string[] {
  const problems: string[] = [];
  const s = sample.state;
  if (s.manifestVersion !== manifest.version) problems.push(`showed manifest ${s.manifestVersion ?? 'none'}, not ${manifest.version}`);
  if (s.online !== (condition === 'online')) problems.push(`online was ${s.online}`);
  if (s.build !== build) problems.push(`ran build ${s.build}, not ${build} (was dist/player rebuilt during the run?)`);
  if (!sample.controlled) problems.push('the navigation was not answered by the service worker');
  return problems;
}

function table(results: Record<Condition, { first: Summary; launch: Summary; shell: Summary }>): string {
  const row = (name: string, r: { first: Summary; launch: Summary; shell: Summary }) =>
    `| ${name} | ${r.first.n} | ${fmtMs(r.first.p50)} | ${fmtMs(r.first.p95)} | ${fmtMs(r.launch.p50)} | ${fmtMs(r.launch.p95)} | ${fmtMs(r.shell.p50)} | ${fmtMs(r.shell.p95)} |`;
  const { online, offline } = results;
  return [
    '| cold start | runs | first frame p50 | first frame p95 | from browser launch p50 | from browser launch p95 | app shell p50 | app shell p95 |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    row('online (server up)', online),
    row('offline (server down)', offline),
    `| offline ÷ online | | ${fmtRatio(offline.first.p50, online.first.p50)} | ${fmtRatio(offline.first.p95, online.first.p95)} | ` +
      `${fmtRatio(offline.launch.p50, online.launch.p50)} | ${fmtRatio(offline.launch.p95, online.launch.p95)} | ` +
      `${fmtRatio(offline.shell.p50, online.shell.p50)} | ${fmtRatio(offline.shell.p95, online.shell.p95)} |`,
  ].join('\n');
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadStart = loadAverage();
  setTimeout(() => {
    console.error(`bench: still running after ${LIMIT_MS / 1000} s (BENCH_LIMIT_S), giving up`);
    process.exit(1);
  }, LIMIT_MS).unref();

  log('building the player (dist/player)');
  await buildPlayer();
  const certDir = path.join(workDir, 'tls');
  const dataDir = path.join(workDir, 'data');
  mkdirSync(certDir);
  mkdirSync(dataDir);
  const cert = makeCertificate(certDir, HOST);
  const server = await startColdStartServer(dataDir, cert, SCREEN);
  const origin = `https://${HOST}:${server.port}`;
  const manifest = await server.manifest();
  const { width, height } = manifest.screen;
  const profile: PlayerProfile = { userDataDir: path.join(workDir, 'profile'), host: HOST, spki: cert.spki, width, height };

  try {
    log(`pairing ${SCREEN} (${width}×${height}) at ${origin} and waiting for the offline caches`);
    const build = await warmProfile(profile, origin, server, manifest);
    const samples: Record<Condition, ColdStartSample[]> = { online: [], offline: [] };
    const problems: string[] = [];
    let renderer = '';

    for (let pair = 0; pair < WARMUP + RUNS; pair++) {
      const timed = pair >= WARMUP;
      const order: Condition[] = pair % 2 === 0 ? ['online', 'offline'] : ['offline', 'online'];
      for (const condition of order) {
        if (condition === 'online') await server.start();
        else await server.stop();
        const sample = await coldStart(profile, `${origin}/player/`, { online: condition === 'online', timeoutMs: RUN_TIMEOUT_MS });
        renderer = sample.state.renderer ?? renderer;
        for (const p of problemsOf(sample, condition, manifest, build)) problems.push(`${condition} run ${pair + 1}: ${p}`);
        if (timed) samples[condition].push(sample);
        log(`${timed ? `run ${pair - WARMUP + 1}/${RUNS}` : 'warm-up'} ${condition.padEnd(7)} first frame ${fmtMs(sample.firstFrameMs)} ms, from launch ${fmtMs(sample.launchToFirstFrameMs)} ms`);
      }
    }
    await server.start();
    const after = await server.manifest();
    if (after.version !== manifest.version) problems.push(`the server's manifest changed during the bench (${manifest.version} → ${after.version})`);
    await server.stop();

    const summaries = (c: Condition) => ({
      first: summarize(samples[c].map((s) => s.firstFrameMs)),
      launch: summarize(samples[c].map((s) => s.launchToFirstFrameMs)),
      shell: summarize(samples[c].map((s) => s.shellMs)),
    });
    const results = { online: summaries('online'), offline: summaries('offline') };
    const machine = `${describeMachine()}, ${chromiumVersion()} headless (${renderer === 'webgl' ? 'WebGL on SwiftShader' : renderer})`;
    const loadEnd = loadAverage();
    const body = table(results);
    console.log(`\n${machine}\n1-minute load average ${loadStart} at the start, ${loadEnd} at the end\n\n${body}\n`);
    if (problems.length > 0) {
      console.error(['Problems:', ...problems.map((p) => `- ${p}`)].join('\n'));
      process.exitCode = 1;
      return;
    }
    if (!IS_DEFAULT_RUN) {
      log('not the default knobs: bench/results/player.md left as it is');
      return;
    }
    const busy = Number(loadStart) > os.cpus().length || Number(loadEnd) > os.cpus().length;
    const busyNote = busy
      ? ' The load average was above the number of cores: other work shared the machine, so take the absolute figures as upper bounds and the ratios as the comparable figure.'
      : '';
    const doc = `# bench:player — cold start to first frame, online and offline

Run ${startedAt.toISOString()} with \`npm run bench:player\` on: ${machine}; 1-minute load average ${loadStart} at the start, ${loadEnd} at the end.${busyNote}

Milliseconds over ${RUNS} runs per condition (after ${WARMUP} untimed pair${WARMUP === 1 ? '' : 's'}); percentiles are nearest-rank. Each run is a new Chromium process on the same warmed profile opening \`${origin.replace(/:\d+$/, ':PORT')}/player/\` (no token) for demo screen \`${SCREEN}\` (${width}×${height}, ${manifest.assets.length} media assets, ${Object.keys(manifest.items).length} items). **first frame** is from navigation start to the player's first frame of content (the \`zonecast:first-frame\` mark, \`state().firstFrameMs\`); **from browser launch** adds the browser's own start, measured from just before the launch on the wall clock; **app shell** is navigation start to the player's HTML received, answered by the service worker from its precache in both conditions.

${body}

Every run showed the paired manifest (\`${manifest.version.slice(0, 12)}…\`) from a navigation the service worker answered; online runs then connected their socket, offline runs stayed offline.

Set-up: the demo city (\`ZONECAST_DEMO\` seed) served over HTTPS (\`TLS_CERT\`/\`TLS_KEY\`, a self-signed certificate for \`${HOST}\`); Chromium maps the name to 127.0.0.1 (\`--host-resolver-rules\`) and trusts the certificate's key (\`--ignore-certificate-errors-spki-list\`), so the player runs on a secure origin that is not localhost. The screen is made always open, so that the figures are for content whatever the hour. The player is paired once (\`?token=\`) and the bench waits until its service worker is active and its media cache and saved manifest are complete. Online and offline runs alternate in pairs (ON OFF, OFF ON, …) so that both see the same machine; for offline runs the server is closed and its port refuses connections. The server runs in the bench process, the browser in its own; they share the machine's cores. In both conditions the first frame comes from the manifest saved in IndexedDB and media from the Cache API, before the socket connects, so the two should be close; the difference is what a dead server costs a start.
`;
    await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, doc);
    log(`wrote ${path.relative(process.cwd(), RESULTS_FILE)}`);
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
