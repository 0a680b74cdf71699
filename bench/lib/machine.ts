import os from 'node:os';

/** The machine a run happened on, as one line for the console and the results file. */
export function describeMachine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  const memGiB = (os.totalmem() / 1024 ** 3).toFixed(1);
  return `${model}, ${cpus.length} cores, ${memGiB} GiB RAM, ${os.type()} ${os.release()} (${os.arch()}), Node ${process.version}`;
}

/** The 1-minute load average, to show whether other work shared the cores during a run. */
export function loadAverage(): string {
  return os.loadavg()[0]?.toFixed(2) ?? 'n/a';
}

/** A line on the console, stamped with the time of day. */
export const log = (msg: string): void => console.log(`${new Date().toISOString().slice(11, 19)} ${msg}`);

/**
 * Starts a benchmark run: gives up after `limitMs` (a hung run must not hang a machine), and
 * returns the machine, the start time and the load average, as the results file reports them.
 */
export function startRun(name: string, limitMs: number): { machine: string; date: string; loadBefore: string } {
  setTimeout(() => {
    console.error(`bench: still running after ${limitMs / 60_000} minutes, giving up`);
    process.exit(1);
  }, limitMs).unref();
  const run = { machine: describeMachine(), date: new Date().toISOString(), loadBefore: loadAverage() };
  log(`${name} on ${run.machine} (load average ${run.loadBefore})`);
  return run;
}
