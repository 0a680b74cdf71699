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
