import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FleetScreen, FleetStats, FromPlayers, ToPlayers } from './alert-protocol.js';
import { withTimeout } from './async.js';

const ENTRY = fileURLToPath(new URL('./alert-player-process.ts', import.meta.url));

/** Simulated players spread over child processes (a process holds one file descriptor per socket). */
export interface Fleet {
  readonly processes: number;
  /** Connects every screen; resolves once each has had its welcome. `progress` hears the count every 10 s. */
  connect(url: string, opts: { concurrency: number; timeoutMs: number; progress?: (connected: number) => void }): Promise<{ connected: number; ms: number }>;
  /** Every process's counters, summed. */
  stats(): Promise<FleetStats>;
  /** How many players acknowledged `alertId` displayed, once all have or `timeoutMs` has passed; no polling in between. */
  displayed(alertId: string, timeoutMs: number): Promise<number>;
  /**
   * When the players sent their acknowledgement of one emit (epoch ms, the machine's one clock):
   * of an alert by its id ('displayed'), of the n-th bare emit by `bare#n`; asked once, after the
   * round. With the arrival times the server records, it splits a latency into the players' part
   * and the server's.
   */
  sentAt(key: string): Promise<number[]>;
  /**
   * A full garbage collection in every player process, before a round: each process plays hundreds
   * of devices, and the garbage of all of them from earlier rounds should not be collected in the
   * middle of a later one (a real player is a device of its own). The server is left alone.
   */
  collect(): Promise<void>;
  close(): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // Each child also exits when its IPC channel closes; this is for the ones still busy.
  process.on('exit', () => {
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
}

type Request = ToPlayers extends infer R ? (R extends ToPlayers ? Omit<R, 'id'> : never) : never;

/** One child: requests over IPC, each answered with its id. */
class PlayerProcess {
  private readonly waiting = new Map<number, { resolve: (m: FromPlayers) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<void>;
  private nextId = 0;

  constructor(private readonly child: ChildProcess) {
    child.on('message', (m: FromPlayers) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      w?.resolve(m);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        live.delete(child);
        for (const w of this.waiting.values()) w.reject(new Error(`player process exited (${code ?? signal})`));
        this.waiting.clear();
        resolve();
      }),
    );
  }

  ask(req: Request, timeoutMs: number): Promise<FromPlayers> {
    const id = ++this.nextId;
    const answer = new Promise<FromPlayers>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.child.send({ ...req, id });
    return withTimeout(answer, timeoutMs, `player process ${this.child.pid}: ${req.type}`).finally(() => this.waiting.delete(id));
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.send({ id: ++this.nextId, type: 'close' } satisfies ToPlayers);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

function sum(all: readonly FleetStats[]): FleetStats {
  const add = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) => {
    const out: Record<string, number> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return all.reduce<FleetStats>(
    (t, s) => ({
      connected: t.connected + s.connected,
      shows: t.shows + s.shows,
      bareAcks: t.bareAcks + s.bareAcks,
      acksSent: t.acksSent + s.acksSent,
      acksOk: t.acksOk + s.acksOk,
      acksRefused: t.acksRefused + s.acksRefused,
      acksTimedOut: t.acksTimedOut + s.acksTimedOut,
      displayedBy: add(t.displayedBy, s.displayedBy),
      cpuMs: t.cpuMs + s.cpuMs,
      lastShow: s.lastShow ?? t.lastShow,
      problems: add(t.problems, s.problems),
    }),
    { connected: 0, shows: 0, bareAcks: 0, acksSent: 0, acksOk: 0, acksRefused: 0, acksTimedOut: 0, displayedBy: {}, cpuMs: 0, lastShow: null, problems: {} },
  );
}

/** Starts `processes` player processes (with extra Node flags `nodeArgs`, e.g. --cpu-prof) and deals `screens` out among them. */
export function startFleet(screens: readonly FleetScreen[], processes: number, nodeArgs: readonly string[] = []): Fleet {
  hookExit();
  const shares = Array.from({ length: processes }, (_, p) => screens.filter((_, i) => i % processes === p));
  const children = shares.map(() => {
    const child = fork(ENTRY, [], { execArgv: ['--expose-gc', '--import', 'tsx', ...nodeArgs], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    live.add(child);
    return new PlayerProcess(child);
  });
  return {
    processes,
    async connect(url, { concurrency, timeoutMs, progress }) {
      const ticker = progress
        ? setInterval(() => {
            this.stats().then(
              (s) => progress(s.connected),
              () => undefined,
            );
          }, 10_000)
        : null;
      const answers = await Promise.all(
        children.map((c, i) => c.ask({ type: 'connect', url, screens: shares[i] ?? [], concurrency, timeoutMs }, timeoutMs + (shares[i]?.length ?? 0) * 400)),
      ).finally(() => {
        if (ticker) clearInterval(ticker);
      });
      let connected = 0;
      let ms = 0;
      for (const a of answers) {
        if (a.type === 'failed') throw new Error(`players could not connect: ${a.message}`);
        if (a.type !== 'connected') throw new Error(`player process answered ${a.type} to connect`);
        connected += a.count;
        ms = Math.max(ms, a.ms);
      }
      return { connected, ms };
    },
    async stats() {
      const answers = await Promise.all(children.map((c) => c.ask({ type: 'stats' }, 10_000)));
      return sum(answers.map((a) => (a.type === 'stats' ? a.stats : sum([]))));
    },
    async displayed(alertId, timeoutMs) {
      const answers = await Promise.all(children.map((c) => c.ask({ type: 'await-displayed', alertId, timeoutMs }, timeoutMs + 10_000)));
      return answers.reduce((n, a) => n + (a.type === 'displayed' ? a.count : 0), 0);
    },
    async collect() {
      await Promise.all(children.map((c) => c.ask({ type: 'collect' }, 10_000)));
    },
    async sentAt(key) {
      const answers = await Promise.all(children.map((c) => c.ask({ type: 'sent', key }, 10_000)));
      return answers.flatMap((a) => (a.type === 'sent' ? a.at : []));
    },
    async close() {
      await Promise.all(children.map((c) => c.close()));
    },
  };
}
