import cron, { type ScheduledTask } from 'node-cron';
import { ALERT_POLICY, LOGIN_POLICY, type Delivery } from '../../content/index.js';
import { AppError } from '../errors.js';
import type { AuditService } from './audit-log.js';
import type { DeliveryStore } from './delivery-journal.js';
import type { Data, Store } from './store.js';

/*
 * Housekeeping on node-cron. Every job is named, runs on the city's clock and never overlaps
 * itself, neither a scheduled run with a slow previous one nor with a `runNow`. A failure is
 * logged with the job's name and kept for diagnostics; the schedule goes on. Each job is
 * idempotent: it reads what is due from the store and changes only that, so running it twice,
 * or again after it was cut off, does nothing more.
 */

type Logger = {
  debug: (obj: object, msg: string) => void;
  info: (obj: object, msg: string) => void;
  warn: (obj: object, msg: string) => void;
  error: (obj: object, msg: string) => void;
};

/** A named job: a cron expression (six fields allow seconds) read in the scheduler's time zone. */
export interface Job {
  readonly name: string;
  readonly cron: string;
  /** The work; what it returns is logged and handed to `runNow`. */
  run(): unknown;
}

/** What the scheduler knows about a job, for diagnostics. */
export interface JobStatus {
  readonly name: string;
  readonly cron: string;
  readonly timeZone: string;
  readonly running: boolean;
  /** Runs started, scheduled or by `runNow`. */
  readonly runs: number;
  readonly failures: number;
  /** Scheduled runs skipped because the previous one was still going. */
  readonly overlaps: number;
  readonly lastStartedAt: string | null;
  readonly lastFinishedAt: string | null;
  readonly lastError: { readonly at: string; readonly message: string } | null;
  /** The next scheduled run, or null while the scheduler is not started. */
  readonly nextRunAt: string | null;
}

export interface Scheduler {
  /** Schedules every job; a no-op when already started. */
  start(): void;
  /** Unschedules every job and waits for running ones to finish; the scheduler then refuses to run any. */
  stop(): Promise<void>;
  /** Runs a job now, after its running instance if any; resolves with its result, rejects with its error. */
  runNow(name: string): Promise<unknown>;
  status(): JobStatus[];
}

interface JobState {
  readonly job: Job;
  runs: number;
  failures: number;
  overlaps: number;
  lastStartedAt: string | null;
  lastFinishedAt: string | null;
  lastError: { at: string; message: string } | null;
  current: Promise<unknown> | null;
  task: ScheduledTask | null;
}

/** Wraps node-cron: one task per job, created stopped and started together. */
export function createScheduler({ jobs, timeZone, log }: { jobs: readonly Job[]; timeZone: string; log: Logger }): Scheduler {
  const states = new Map<string, JobState>();
  for (const job of jobs) {
    if (states.has(job.name)) throw new Error(`two jobs named "${job.name}"`);
    // Fails here, at start-up, on an expression node-cron cannot read.
    const { valid, errors } = cron.validateDetailed(job.cron);
    if (!valid) throw new Error(`job "${job.name}": ${errors.map((e) => e.message).join('; ')}`);
    states.set(job.name, { job, runs: 0, failures: 0, overlaps: 0, lastStartedAt: null, lastFinishedAt: null, lastError: null, current: null, task: null });
  }
  let started = false;
  let stopped = false;

  /** One run; never rejects, so that node-cron sees no failure and the schedule goes on. */
  function execute(state: JobState): Promise<{ ok: true; result: unknown } | { ok: false; error: unknown }> {
    const { name } = state.job;
    state.runs++;
    state.lastStartedAt = new Date().toISOString();
    const run = (async () => state.job.run())().then(
      (result) => {
        if (result !== undefined) log.debug({ job: name, result }, 'job finished');
        return { ok: true as const, result };
      },
      (error: unknown) => {
        state.failures++;
        state.lastError = { at: new Date().toISOString(), message: error instanceof Error ? error.message : String(error) };
        log.error({ err: error, job: name, failures: state.failures }, `job ${name} failed`);
        return { ok: false as const, error };
      },
    );
    const tracked = run.finally(() => {
      state.lastFinishedAt = new Date().toISOString();
      if (state.current === tracked) state.current = null;
    });
    state.current = tracked;
    return tracked;
  }

  async function scheduled(state: JobState): Promise<void> {
    if (stopped) return;
    // node-cron's noOverlap only knows its own scheduled runs; this also covers a `runNow` in progress.
    if (state.current) {
      state.overlaps++;
      log.warn({ job: state.job.name }, `job ${state.job.name} still running, scheduled run skipped`);
      return;
    }
    await execute(state);
  }

  function cronLogger(name: string) {
    const text = (m: string | Error) => (m instanceof Error ? m.message : m);
    return {
      debug: (m: string | Error, err?: Error) => log.debug({ job: name, err }, `node-cron: ${text(m)}`),
      info: (m: string) => log.debug({ job: name }, `node-cron: ${m}`),
      warn: (m: string) => log.warn({ job: name }, `node-cron: ${m}`),
      error: (m: string | Error, err?: Error) => log.error({ job: name, err: err ?? m }, `node-cron: ${text(m)}`),
    };
  }

  return {
    start() {
      if (started || stopped) return;
      started = true;
      for (const state of states.values()) {
        const { name } = state.job;
        // createTask returns a stopped task (schedule() would start it at once); unref: the
        // server, not housekeeping, keeps the process alive.
        const task = cron.createTask(state.job.cron, () => scheduled(state), { name, timezone: timeZone, noOverlap: true, unref: true, logger: cronLogger(name) });
        task.on('execution:overlap', () => {
          state.overlaps++;
        });
        // With a listener, node-cron leaves the warning to us.
        task.on('execution:missed', (ctx) => log.warn({ job: name, at: ctx.triggeredAt.toISOString() }, `job ${name} missed a run (event loop blocked?)`));
        state.task = task;
        void task.start();
      }
      log.info({ jobs: [...states.keys()], timeZone }, 'scheduler started');
    },
    async stop() {
      stopped = true;
      for (const state of states.values()) {
        // destroy() also drops the task from node-cron's process-wide registry.
        void state.task?.destroy();
        state.task = null;
      }
      await Promise.all([...states.values()].map((s) => s.current));
    },
    async runNow(name) {
      const state = states.get(name);
      if (!state) throw new AppError('NOT_FOUND', `no job named "${name}"`);
      // Waiting in a loop: another caller may have started a run while this one waited.
      while (state.current) await state.current;
      if (stopped) throw new AppError('INTERNAL', 'the scheduler is stopped');
      const outcome = await execute(state);
      if (!outcome.ok) throw outcome.error;
      return outcome.result;
    },
    status() {
      return [...states.values()].map((s) => ({
        name: s.job.name,
        cron: s.job.cron,
        timeZone,
        running: s.current !== null,
        runs: s.runs,
        failures: s.failures,
        overlaps: s.overlaps,
        lastStartedAt: s.lastStartedAt,
        lastFinishedAt: s.lastFinishedAt,
        lastError: s.lastError,
        nextRunAt: s.task?.getNextRun()?.toISOString() ?? null,
      }));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The jobs
// ---------------------------------------------------------------------------------------------

/** How often the heartbeat sweep runs. */
export const SWEEP_CRON = '*/15 * * * * *';
/** Daily clean-up, at a quiet hour of the city's night. */
export const RETENTION_CRON = '0 17 3 * * *';
/** Undisplayed alerts are retried at the alert policy's pace. */
export const ALERT_RETRY_CRON = `*/${ALERT_POLICY.retryEveryMs / 1000} * * * * *`;

/** Alerts and their delivery boards are kept this long after they end. */
export const ALERT_RETENTION_MONTHS = 13;
// As pairing.ts keeps a claimed pairing, so that a player that missed the push still gets its token.
const CLAIMED_PAIRING_KEEP_MS = 24 * 60 * 60_000;

/** The alert service, as far as the scheduler needs it; it may not be there at all. */
export interface AlertRetrier {
  /** Retries the deliveries that are due at `now` (epoch ms); resolves with how many it retried. */
  retryDue(now: number): Promise<number>;
}

export interface HousekeepingDeps {
  readonly store: Store;
  /** The delivery boards; without them retention removes alerts only. */
  readonly deliveries?: DeliveryStore;
  readonly audit: Pick<AuditService, 'pruneAudit'>;
  /** Seconds of silence after which a screen counts as offline. */
  readonly offlineAfterS: number;
  /** Tells staff a screen went offline. */
  announceOffline(screenId: string, zoneId: string): void;
  /** The alert service, looked up at run time: it is optional. */
  alerts(): AlertRetrier | null;
  readonly log: Logger;
}

/** Marks screens silent for `offlineAfterS` offline, once each; answers those it marked. */
export async function sweepOffline(store: Store, offlineAfterS: number, now = Date.now()): Promise<{ screenId: string; zoneId: string }[]> {
  const cutoff = now - offlineAfterS * 1000;
  const stale = (s: Data['seen'][number]) => s.offlineSince === null && Date.parse(s.lastSeenAt) <= cutoff;
  // Most sweeps find nothing: they should not write the store.
  if (!store.read().seen.some(stale)) return [];
  return store.write((draft) => {
    const zoneOf = new Map(draft.screens.map((s) => [s.id, s.zoneId]));
    const at = new Date(now).toISOString();
    const marked: { screenId: string; zoneId: string }[] = [];
    for (const seen of draft.seen) {
      const zoneId = zoneOf.get(seen.screenId);
      if (zoneId === undefined || !stale(seen)) continue;
      seen.offlineSince = at;
      marked.push({ screenId: seen.screenId, zoneId });
    }
    return marked;
  });
}

/** One clean-up step: removes what is due to go at `now`, writing nothing when nothing is; answers how many items went. */
interface RetentionStep {
  readonly name: string;
  run(deps: Pick<HousekeepingDeps, 'store' | 'deliveries'>, now: number): Promise<number>;
}

/** A step over one part of the store's document. */
function documentStep(name: string, due: (data: Readonly<Data>, now: number) => boolean, remove: (draft: Data, now: number) => number): RetentionStep {
  return { name, run: async ({ store }, now) => (due(store.read(), now) ? store.write((draft) => remove(draft, now)) : 0) };
}

function monthsBefore(now: number, months: number): number {
  const d = new Date(now);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d.getTime();
}

/** Splits a collection into what stays and how many go. */
function sift<T>(items: readonly T[], gone: (item: T) => boolean): { kept: T[]; removed: number } {
  const kept = items.filter((item) => !gone(item));
  return { kept, removed: items.length - kept.length };
}

const sessionGone = (s: Data['sessions'][number], now: number) => Date.parse(s.expiresAt) <= now || Date.parse(s.absoluteExpiresAt) <= now;
const counterGone = (c: Data['loginCounters'][number], now: number) => Date.parse(c.firstAt) + LOGIN_POLICY.windowMs <= now && (c.lockedUntil === null || Date.parse(c.lockedUntil) <= now);
const pairingGone = (p: Data['pairings'][number], now: number) => (p.claimedAt ? Date.parse(p.claimedAt) + CLAIMED_PAIRING_KEEP_MS <= now : Date.parse(p.expiresAt) <= now);
const alertGone = (a: Data['alerts'][number], now: number) => Date.parse(a.clearedAt ?? a.expiresAt) <= monthsBefore(now, ALERT_RETENTION_MONTHS);
/** A delivery left without its alert, by its last moment; one that never moved has no age and stays. */
const orphanGone = (d: Delivery, now: number) => {
  const times = [d.lastAttemptAt, d.deliveredAt, d.displayedAt].flatMap((t) => (t ? [Date.parse(t)] : []));
  return times.length > 0 && Math.max(...times) <= monthsBefore(now, ALERT_RETENTION_MONTHS);
};

/**
 * An alert goes 13 months after it ended, and its delivery board with it; a board whose alert is
 * missing (never committed, or removed) by the age of each delivery. The boards go first: a crash
 * in between leaves an old alert with an empty board, which the next run removes.
 */
const alertsStep: RetentionStep = {
  name: 'alerts',
  async run({ store, deliveries }, now) {
    let removed = 0;
    if (deliveries) {
      const alerts = store.read().alerts;
      const gone = new Set(alerts.filter((a) => alertGone(a, now)).map((a) => a.id));
      const known = new Set(alerts.map((a) => a.id));
      const read = deliveries.read();
      const drops: { alertId: string; screenId?: string; count: number }[] = [];
      for (const alertId of read.alertIds()) {
        const boards = read.revisions(alertId).map((r) => read.board(alertId, r));
        if (gone.has(alertId)) drops.push({ alertId, count: boards.reduce((n, b) => n + b.size, 0) });
        else if (!known.has(alertId)) {
          const old = new Set(boards.flatMap((b) => [...b.values()].filter((d) => orphanGone(d, now)).map((d) => d.screenId)));
          for (const screenId of old) drops.push({ alertId, screenId, count: boards.filter((b) => b.has(screenId)).length });
        }
      }
      if (drops.length > 0) {
        await deliveries.write((draft) => {
          for (const d of drops) draft.drop(d.alertId, d.screenId);
        });
        removed += drops.reduce((n, d) => n + d.count, 0);
      }
    }
    if (store.read().alerts.some((a) => alertGone(a, now))) {
      removed += await store.write((draft) => {
        const { kept, removed } = sift(draft.alerts, (a) => alertGone(a, now));
        draft.alerts = kept;
        // The CAP messages that amended them go with them.
        const ids = new Set(kept.map((a) => a.id));
        draft.capLinks = draft.capLinks.filter((l) => ids.has(l.alertId));
        return removed;
      });
    }
    return removed;
  },
};

const RETENTION_STEPS: readonly RetentionStep[] = [
  documentStep(
    'sessions',
    (data, now) => data.sessions.some((s) => sessionGone(s, now)),
    (draft, now) => {
      const { kept, removed } = sift(draft.sessions, (s) => sessionGone(s, now));
      draft.sessions = kept;
      return removed;
    },
  ),
  documentStep(
    'login-counters',
    (data, now) => data.loginCounters.some((c) => counterGone(c, now)),
    (draft, now) => {
      const { kept, removed } = sift(draft.loginCounters, (c) => counterGone(c, now));
      draft.loginCounters = kept;
      return removed;
    },
  ),
  documentStep(
    'pairings',
    (data, now) => data.pairings.some((p) => pairingGone(p, now)),
    (draft, now) => {
      const { kept, removed } = sift(draft.pairings, (p) => pairingGone(p, now));
      draft.pairings = kept;
      return removed;
    },
  ),
  alertsStep,
  // "Last seen" records of screens that were deleted.
  documentStep(
    'seen',
    (data) => {
      const screens = new Set(data.screens.map((s) => s.id));
      return data.seen.some((s) => !screens.has(s.screenId));
    },
    (draft) => {
      const screens = new Set(draft.screens.map((s) => s.id));
      const { kept, removed } = sift(draft.seen, (s) => !screens.has(s.screenId));
      draft.seen = kept;
      return removed;
    },
  ),
];

/**
 * The retention clean-up: each step on its own, so that one failing leaves the others done;
 * the job fails, naming the steps, if any did. Answers how many items each step removed.
 */
export async function runRetention(deps: Pick<HousekeepingDeps, 'store' | 'deliveries' | 'audit' | 'log'>, now = Date.now()): Promise<Record<string, number>> {
  const { audit, log } = deps;
  const removed: Record<string, number> = {};
  const failed: string[] = [];
  for (const step of RETENTION_STEPS) {
    try {
      // A step with nothing due does not write: a second run is a true no-op.
      removed[step.name] = await step.run(deps, now);
    } catch (err) {
      failed.push(step.name);
      log.error({ err, job: 'retention', step: step.name }, `retention step ${step.name} failed`);
    }
  }
  try {
    const pruned = await audit.pruneAudit(new Date(now));
    log.info({ job: 'retention', step: 'audit', pruned }, 'audit log pruned');
  } catch (err) {
    failed.push('audit');
    log.error({ err, job: 'retention', step: 'audit' }, 'retention step audit failed');
  }
  if (Object.values(removed).some((n) => n > 0)) log.info({ job: 'retention', removed }, 'retention removed expired records');
  if (failed.length > 0) throw new Error(`retention steps failed: ${failed.join(', ')}`);
  return removed;
}

/** The server's housekeeping jobs: the heartbeat sweep, retention and alert retries. */
export function housekeepingJobs(deps: HousekeepingDeps): Job[] {
  const { store, log } = deps;
  return [
    {
      name: 'heartbeat-sweep',
      cron: SWEEP_CRON,
      async run() {
        const marked = await sweepOffline(store, deps.offlineAfterS);
        for (const { screenId, zoneId } of marked) {
          // Logged, not audited: a flaky village link would flood the audit log.
          log.info({ job: 'heartbeat-sweep', screenId, zoneId, offlineAfterS: deps.offlineAfterS }, 'screen offline: no heartbeat');
          deps.announceOffline(screenId, zoneId);
        }
        return marked.length;
      },
    },
    {
      name: 'retention',
      cron: RETENTION_CRON,
      run: () => runRetention(deps),
    },
    {
      name: 'alert-retry',
      cron: ALERT_RETRY_CRON,
      async run() {
        const alerts = deps.alerts();
        return alerts ? alerts.retryDue(Date.now()) : null;
      },
    },
  ];
}
