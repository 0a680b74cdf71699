import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sleep } from './async.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GUARD = pathToFileURL(fileURLToPath(new URL('./orphan-guard.ts', import.meta.url))).href;

/** A ZoneCast server running in a child process, with its own temp data directory. */
export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** The last lines the server wrote, for error reports. */
  tail(): string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; removes the data directory. */
  stop(graceMs?: number): Promise<void>;
}

/** The first admin's login on a bench server: main.ts creates `admin` from ZONECAST_ADMIN_PASSWORD on first start. */
export const BENCH_ADMIN = { username: 'admin', password: 'bench-only-password-2026' } as const;

const running = new Set<{ child: ChildProcess; dataDir: string }>();
let hooked = false;

// Whatever ends the bench, no server child and no temp directory outlives it.
function killAll(): void {
  for (const r of running) {
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    rmSync(r.dataDir, { recursive: true, force: true });
  }
  running.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\nbench: ${signal}, stopping the server`);
      process.exit(130);
    });
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `server/main.ts` under tsx with a fresh DATA_DIR, no demo seed, the bench route and the
 * first admin's password set to BENCH_ADMIN's, and resolves once /api/health answers. Extra Node flags (e.g. --cpu-prof) go in `nodeArgs`.
 */
export async function startServer(opts: { nodeArgs?: readonly string[]; readyTimeoutMs?: number } = {}): Promise<ServerProcess> {
  hookExit();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'zonecast-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const lines: string[] = [];
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', '--import', GUARD, 'server/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      BENCH_OWNED_DATA_DIR: dataDir,
      ZONECAST_DEMO: 'false',
      ZONECAST_BENCH_ROUTES: '1',
      ZONECAST_ADMIN_PASSWORD: BENCH_ADMIN.password,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const entry = { child, dataDir };
  running.add(entry);

  const keep = (chunk: Buffer, echo: boolean) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
      // At LOG_LEVEL=warn every JSON line is a warning or worse: show it as it happens.
      if (echo || line.startsWith('{')) console.error(`[server] ${line}`);
    }
  };
  child.stdout?.on('data', (c: Buffer) => keep(c, Boolean(process.env.BENCH_ECHO)));
  child.stderr?.on('data', (c: Buffer) => keep(c, true));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it was ready:\n${lines.join('\n')}`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server not ready at ${url}:\n${lines.join('\n')}`);
    await sleep(100);
  }

  return {
    url,
    pid: child.pid ?? -1,
    tail: () => lines.join('\n'),
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
      running.delete(entry);
    },
  };
}
