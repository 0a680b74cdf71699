import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The repository root, where `tsx` resolves and `server/main.ts` lives. */
export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** Node arguments that run a TypeScript entry point the way `npm run dev` does, minus the watcher. */
export function tsxArgs(...rest: string[]): string[] {
  return ['--import', 'tsx', ...rest];
}

/** A real ZoneCast server in a child process. */
export interface ServerProcess {
  readonly child: ChildProcess;
  /** Base URL taken from the server's own "is running at" line. */
  readonly url: string;
  /** Everything the child printed so far, for failure messages. */
  output(): string;
  /** Resolves once the child has exited, with its exit code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node --import tsx server/main.ts` on a free port of 127.0.0.1 against `dataDir`, and
 * resolves once it prints where it is listening. Port 0 lets the kernel pick, so parallel test
 * files cannot race for a port.
 */
export function startServer(opts: { dataDir: string; env?: Record<string, string>; readyMs?: number }): Promise<ServerProcess> {
  const child = spawn(process.execPath, tsxArgs('server/main.ts'), {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: opts.dataDir, ZONECAST_DEMO: 'false', ZONECAST_JOBS: 'false', LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${opts.readyMs ?? 30_000} ms:\n${out}`));
    }, opts.readyMs ?? 30_000);
    const onData = (): void => {
      const m = /is running at (https?:\/\/\S+)/.exec(out);
      if (!m?.[1]) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({ child, url: m[1], output: () => out, exited });
    };
    child.stdout.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (code ${code}, signal ${signal}):\n${out}`));
    });
  });
}

/** Runs a command to completion and collects its output; never rejects on a non-zero exit. */
export function run(
  command: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd ?? repoRoot, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
