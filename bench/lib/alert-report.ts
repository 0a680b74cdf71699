import { fmtMs, fmtRatio, summarize, type Summary } from './stats.js';

/** One alert sent through `POST /api/alerts`, read back from its delivery board. */
export interface AlertRound {
  /** Per player: `displayedAt` (the server's clock when the 'displayed' acknowledgement arrived) − t0. */
  readonly latencies: readonly number[];
  /** Players whose 'displayed' acknowledgement is on the board. */
  readonly displayed: number;
  /** t0 → the HTTP response (store write done; the emit happens just before the reply). */
  readonly responseMs: number;
  /** t0 → the alert's `createdAt` (the server's clock inside the store mutation). */
  readonly createdMs: number;
  /** From the server's trace: t0 → the start of the `alert:show` room emit, and how long its synchronous write to every socket took. */
  readonly emitMs: number;
  readonly emitLoopMs: number;
  /** The alert's own writes (its board in the journal and the alert in the store: first called → last durable), which the emit waits for. */
  readonly createWriteMs: number;
  /** Writes that started between the emit and the last acknowledgement (the batched acknowledgements), and their summed time. */
  readonly fanInWrites: number;
  readonly fanInWriteMs: number;
  /** The server process's CPU time from just before the request until every acknowledgement was answered (ms, user + system). */
  readonly cpuMs: number;
  /** The player processes' CPU time for the round, summed (ms). */
  readonly playersCpuMs: number;
  /** The server's garbage collections from t0 to the last acknowledgement, summed (ms). */
  readonly gcMs: number;
  /** Per player: when it sent its 'displayed' acknowledgement − t0 (its arrival at the server is in `latencies`). */
  readonly sent: readonly number[];
}

/** One bare room emit with acknowledgement through `POST /api/_bench/emit-ack`. */
export interface BareRound {
  /** Per player: the server's clock when the acknowledgement arrived − t0. */
  readonly latencies: readonly number[];
  readonly acknowledged: number;
  /** Sockets the emit reached. */
  readonly reached: number;
  /** From the server's trace: t0 → the start of the room emit, and its synchronous write to every socket. */
  readonly emitMs: number;
  readonly emitLoopMs: number;
  /** The server process's CPU time for the round (ms, user + system). */
  readonly cpuMs: number;
  /** The player processes' CPU time for the round, summed (ms). */
  readonly playersCpuMs: number;
  /** The server's garbage collections from t0 to the last acknowledgement, summed (ms). */
  readonly gcMs: number;
  /** Per player: when it sent its acknowledgement − t0. */
  readonly sent: readonly number[];
}

/** Everything measured at one number of players. */
export interface SizeResult {
  readonly players: number;
  readonly processes: number;
  readonly alerts: readonly AlertRound[];
  readonly bares: readonly BareRound[];
  readonly payloadBytes: number;
  /** Server heap (after a full GC) per connected player, and the RSS growth per player, in bytes. */
  readonly heapPerPlayer: number;
  readonly rssPerPlayer: number;
  readonly heapBefore: number;
  readonly heapAfter: number;
  readonly gc: boolean;
  readonly connectMs: number;
  readonly seedMs: number;
  /** The store document on disk with every player connected, and at the end of the rounds. */
  readonly storeBytesBefore: number;
  readonly storeBytesAfter: number;
  /** The delivery journal on disk at the end of the rounds. */
  readonly journalBytesAfter: number;
}

export const alertSummary = (r: SizeResult): Summary => summarize(r.alerts.flatMap((a) => a.latencies));
export const bareSummary = (r: SizeResult): Summary => summarize(r.bares.flatMap((b) => b.latencies));
/** The worst round: fewest players acknowledged, of each kind. */
export const fewestDisplayed = (r: SizeResult): number => Math.min(...r.alerts.map((a) => a.displayed));
export const fewestBare = (r: SizeResult): number => Math.min(...r.bares.map((b) => b.acknowledged));

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** The headline table: percentiles of alert and bare latency, their ratios, acknowledgements and heap per player. */
export function resultsTable(results: readonly SizeResult[]): string {
  const head =
    '| players | acknowledged (fewest in a round) | alert p50 | alert p95 | alert p99 | bare p50 | bare p95 | bare p99 | ratio p50 | ratio p95 | ratio p99 | heap per player |\n' +
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows = results.map((r) => {
    const a = alertSummary(r);
    const b = bareSummary(r);
    return (
      `| ${r.players} | ${fewestDisplayed(r)} of ${r.players} | ${fmtMs(a.p50)} | ${fmtMs(a.p95)} | ${fmtMs(a.p99)} | ` +
      `${fmtMs(b.p50)} | ${fmtMs(b.p95)} | ${fmtMs(b.p99)} | ${fmtRatio(a.p50, b.p50)} | ${fmtRatio(a.p95, b.p95)} | ${fmtRatio(a.p99, b.p99)} | ${kb(r.heapPerPlayer)} KiB |`
    );
  });
  return [head, ...rows].join('\n');
}

/** Where the alert's time goes, each round's p99, and the set-up figures. */
export function detailsTable(results: readonly SizeResult[]): string {
  const head =
    '| players | rounds alert / bare | bare acknowledged (fewest) | payload bytes | t0 → createdAt p50 | t0 → HTTP response p50 | alert first ack p50 | bare first ack p50 | alert max | bare max | alert p99 by round | bare p99 by round | RSS per player | store document before / after rounds | delivery journal after rounds | player processes | seed / connect s |\n' +
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|';
  const rows = results.map((r) => {
    const a = alertSummary(r);
    const b = bareSummary(r);
    const created = summarize(r.alerts.map((x) => x.createdMs));
    const response = summarize(r.alerts.map((x) => x.responseMs));
    const firstA = summarize(r.alerts.map((x) => Math.min(...x.latencies)));
    const firstB = summarize(r.bares.map((x) => Math.min(...x.latencies)));
    const byRound = (xs: readonly { latencies: readonly number[] }[]) => xs.map((x) => fmtMs(summarize(x.latencies).p99)).join(', ');
    return (
      `| ${r.players} | ${r.alerts.length} / ${r.bares.length} | ${fewestBare(r)} of ${r.players} | ${r.payloadBytes} | ${fmtMs(created.p50)} | ${fmtMs(response.p50)} | ` +
      `${fmtMs(firstA.p50)} | ${fmtMs(firstB.p50)} | ${fmtMs(a.max)} | ${fmtMs(b.max)} | ${byRound(r.alerts)} | ${byRound(r.bares)} | ` +
      `${kb(r.rssPerPlayer)} KiB | ${mb(r.storeBytesBefore)} / ${mb(r.storeBytesAfter)} MB | ${mb(r.journalBytesAfter)} MB | ${r.processes} | ${(r.seedMs / 1000).toFixed(0)} / ${(r.connectMs / 1000).toFixed(1)} |`
    );
  });
  return [head, ...rows].join('\n');
}

const p50 = (xs: readonly number[]) => summarize(xs).p50;

/**
 * Where the time goes: before the emit (for the alert: the HTTP request, validation and the
 * fsynced store write), the emit itself, and after it (delivery, the players, the
 * acknowledgements and, for the alert, recording them), for alert and bare side by side.
 */
export function breakdownTable(results: readonly SizeResult[]): string {
  const head =
    '| players | t0 → emit, alert | of which its writes (board, alert) | t0 → emit, bare | emit loop alert / bare | emit → ack p50 alert / bare | emit → ack p99 alert / bare | t0 → players sent p50 / p99, alert \\| bare | writes during the fan-in (time) | server GC t0 → last ack, alert / bare | CPU per round, server: alert / bare; players: alert / bare |\n' +
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows = results.map((r) => {
    const afterA = summarize(r.alerts.flatMap((a) => a.latencies.map((l) => l - a.emitMs)));
    const afterB = summarize(r.bares.flatMap((b) => b.latencies.map((l) => l - b.emitMs)));
    const sentA = summarize(r.alerts.flatMap((a) => a.sent));
    const sentB = summarize(r.bares.flatMap((b) => b.sent));
    return (
      `| ${r.players} | ${fmtMs(p50(r.alerts.map((a) => a.emitMs)))} | ${fmtMs(p50(r.alerts.map((a) => a.createWriteMs)))} | ${fmtMs(p50(r.bares.map((b) => b.emitMs)))} | ` +
      `${fmtMs(p50(r.alerts.map((a) => a.emitLoopMs)))} / ${fmtMs(p50(r.bares.map((b) => b.emitLoopMs)))} | ${fmtMs(afterA.p50)} / ${fmtMs(afterB.p50)} | ` +
      `${fmtMs(afterA.p99)} / ${fmtMs(afterB.p99)} | ${fmtMs(sentA.p50)} / ${fmtMs(sentA.p99)} \\| ${fmtMs(sentB.p50)} / ${fmtMs(sentB.p99)} | ${fmtMs(p50(r.alerts.map((a) => a.fanInWrites)))} (${fmtMs(p50(r.alerts.map((a) => a.fanInWriteMs)))} ms) | ${fmtMs(p50(r.alerts.map((a) => a.gcMs)))} / ${fmtMs(p50(r.bares.map((b) => b.gcMs)))} ms | ` +
      `${fmtMs(p50(r.alerts.map((a) => a.cpuMs)))} / ${fmtMs(p50(r.bares.map((b) => b.cpuMs)))}; ${fmtMs(p50(r.alerts.map((a) => a.playersCpuMs)))} / ${fmtMs(p50(r.bares.map((b) => b.playersCpuMs)))} ms |`
    );
  });
  return [head, ...rows].join('\n');
}

/** The issue's targets, checked. */
export function verdicts(results: readonly SizeResult[], ratioTarget: number, ratioAt: number): string[] {
  const out: string[] = [];
  for (const r of results) {
    const shown = fewestDisplayed(r);
    const bare = fewestBare(r);
    out.push(`${r.players} players: ${shown === r.players ? 'every player acknowledged every alert' : `**only ${shown} of ${r.players} acknowledged in the worst round**`}` +
      (bare === r.players ? '' : `; the bare emit reached only ${bare} in its worst round`));
    if (r.players === ratioAt) {
      const a = alertSummary(r).p99;
      const b = bareSummary(r).p99;
      const ratio = a / b;
      // One disturbed round (another tenant on the cores) sets a pooled p99 alone; the median of
      // the rounds' own p99 is shown beside it, and the verdict needs both.
      const ra = p50(r.alerts.map((x) => summarize(x.latencies).p99));
      const rb = p50(r.bares.map((x) => summarize(x.latencies).p99));
      const met = ratio <= ratioTarget && ra / rb <= ratioTarget;
      out.push(
        `${r.players} players: alert p99 ÷ bare p99 = ${fmtRatio(a, b)} over all rounds, ${fmtRatio(ra, rb)} as the median of each round’s p99 ` +
          `(${fmtMs(ra)} vs ${fmtMs(rb)} ms) — target ≤ ${ratioTarget}×: ${met ? 'met' : '**missed**'}`,
      );
    }
  }
  return out;
}
