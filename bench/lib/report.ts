import { fmtMs, fmtRatio, type Summary } from './stats.js';

/** The measurements for one kind of change at one number of players. */
export interface ChangeResult {
  readonly players: number;
  readonly change: 'city-wide' | 'town-only';
  readonly affected: number;
  /** HTTP change → last affected player holds its new manifest. */
  readonly push: Summary;
  /** HTTP broadcast request → last player in the same room has the ping. */
  readonly bare: Summary;
  /** HTTP change (the approval) → its response (store commit plus publish). */
  readonly changeResponse: Summary;
  /** Mean bytes of a `manifest:changed` payload; the bare broadcast carries a pad of this size. */
  readonly payloadBytes: number;
}

/** The main table: players, change, push and bare percentiles and their ratios. */
export function resultsTable(results: readonly ChangeResult[]): string {
  const head =
    '| players | change | affected | push p50 | push p95 | push p99 | bare p50 | bare p95 | bare p99 | ratio p50 | ratio p95 | ratio p99 |\n' +
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows = results.map(
    (r) =>
      `| ${r.players} | ${r.change} | ${r.affected} | ${fmtMs(r.push.p50)} | ${fmtMs(r.push.p95)} | ${fmtMs(r.push.p99)} | ` +
      `${fmtMs(r.bare.p50)} | ${fmtMs(r.bare.p95)} | ${fmtMs(r.bare.p99)} | ` +
      `${fmtRatio(r.push.p50, r.bare.p50)} | ${fmtRatio(r.push.p95, r.bare.p95)} | ${fmtRatio(r.push.p99, r.bare.p99)} |`,
  );
  return [head, ...rows].join('\n');
}

/** Supporting figures: sample counts, payload size, and how long the change request itself took. */
export function detailsTable(results: readonly ChangeResult[]): string {
  const head =
    '| players | change | samples push / bare | payload bytes | change response p50 | change response p95 | push max | bare max |\n' +
    '|---:|---|---:|---:|---:|---:|---:|---:|';
  const rows = results.map(
    (r) =>
      `| ${r.players} | ${r.change} | ${r.push.n} / ${r.bare.n} | ${r.payloadBytes} | ${fmtMs(r.changeResponse.p50)} | ${fmtMs(r.changeResponse.p95)} | ` +
      `${fmtMs(r.push.max)} | ${fmtMs(r.bare.max)} |`,
  );
  return [head, ...rows].join('\n');
}

/** Violations by kind, or a line saying there were none. */
export function violationsText(violations: ReadonlyMap<string, number>): string {
  if (violations.size === 0) return 'Correctness: no violations (every affected player held exactly the new, hash-consistent manifest; no unaffected player got a push).';
  return ['Correctness violations:', ...[...violations].map(([what, n]) => `- ${what}: ${n}`)].join('\n');
}
