import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Data } from '../../server/services/store.js';
import { startServer, type ServerProcess } from '../helpers/process.js';

const WORKERS = 8;
const CYCLES = 3;
const CITY = { tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市' } as const;
/** The first admin's password, set through the environment so that the test can log in. */
const ADMIN_PASSWORD = 'durable-writes-2026';

/** Logs in as the first admin and returns the session cookie; sessions live in the store, so it survives restarts. */
async function login(server: ServerProcess): Promise<string> {
  const res = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('zc_session='))?.split(';')[0];
  if (!cookie) throw new Error('no session cookie');
  return cookie;
}

let cookie = '';
const start = (dataDir: string) => startServer({ dataDir, env: { ZONECAST_ADMIN_PASSWORD: ADMIN_PASSWORD } });

interface StreamResult {
  /** Ids the server answered 201 for: each one is an acknowledged write. */
  readonly acked: string[];
  /** Requests still waiting for their answer when the SIGKILL was sent. */
  readonly inFlightAtKill: number;
  readonly conflicts: number;
  readonly unexpected: string[];
}

/**
 * Keeps `WORKERS` create requests in flight against the server and sends it SIGKILL once `killAfter`
 * writes have been acknowledged. Every fifth request re-creates the existing city and must fail
 * with 409, so batches mix committed and rejected mutations. Answers that arrive after the kill
 * signal still count: the server sent them, so it acknowledged them.
 */
async function streamUntilKilled(server: ServerProcess, cityId: string, killAfter: number, tag: string): Promise<StreamResult> {
  const acked: string[] = [];
  const unexpected: string[] = [];
  let conflicts = 0;
  let inFlight = 0;
  let inFlightAtKill = -1;
  let stop = false;
  let n = 0;
  const post = (url: string, body: unknown): Promise<Response> =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify(body) });

  // Should the server die on its own, stop instead of hammering a closed port until the timeout.
  void server.exited.then(() => (stop = true));

  async function worker(): Promise<void> {
    while (!stop) {
      const i = n++;
      const conflicting = i % 5 === 4;
      inFlight++;
      try {
        const res = conflicting
          ? await post(`${server.url}/api/zones`, CITY)
          : await post(`${server.url}/api/schedules`, { name: `${tag}-${i}`, zoneId: cityId, validFrom: null, validTo: null, dayparts: [], priority: 0, weight: 1 });
        const body = (await res.json()) as { id?: unknown; code?: unknown };
        if (res.status === 201 && !conflicting && typeof body.id === 'string') {
          acked.push(body.id);
          if (acked.length >= killAfter && !stop) {
            stop = true;
            inFlightAtKill = inFlight - 1;
            server.child.kill('SIGKILL');
          }
        } else if (res.status === 409 && conflicting && body.code === 'ZONE_CODE_TAKEN') {
          conflicts++;
        } else {
          unexpected.push(`${res.status} ${JSON.stringify(body)}`);
        }
      } catch {
        // Cut off by the kill: never acknowledged, so it may or may not have been stored.
      } finally {
        inFlight--;
      }
    }
  }

  await Promise.all(Array.from({ length: WORKERS }, worker));
  return { acked, inFlightAtKill, conflicts, unexpected };
}

async function readDataFile(dataDir: string): Promise<Data> {
  const text = await readFile(path.join(dataDir, 'zonecast.json'), 'utf8');
  return JSON.parse(text) as Data;
}

async function getIds(server: ServerProcess, collection: 'schedules' | 'zones'): Promise<string[]> {
  const res = await fetch(`${server.url}/api/${collection}`, { headers: { cookie } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }[]).map((d) => d.id);
}

const missing = (expected: Iterable<string>, present: Iterable<string>): string[] => {
  const have = new Set(present);
  return [...expected].filter((id) => !have.has(id));
};

describe('durability of acknowledged writes', () => {
  let dataDir: string;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'zonecast-durability-'));
  });
  afterAll(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write, and a valid file, through three SIGKILLs of the server mid-stream', async () => {
    server = await start(dataDir);
    cookie = await login(server);
    const cityRes = await fetch(`${server.url}/api/zones`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify(CITY) });
    expect(cityRes.status).toBe(201);
    const cityId = ((await cityRes.json()) as { id: string }).id;
    const acked: string[] = [];

    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      // A different, random point in each cycle, 100 to 300 acknowledgements in.
      const killAfter = 100 + Math.floor(Math.random() * 200);
      const run = await streamUntilKilled(server, cityId, killAfter, `c${cycle}`);
      const context = `cycle ${cycle}, killed after ${killAfter} acks`;
      expect(await server.exited, `${context}; server output:\n${server.output()}`).toEqual({ code: null, signal: 'SIGKILL' });
      expect(run.unexpected, context).toEqual([]);
      expect(run.acked.length, context).toBeGreaterThanOrEqual(killAfter);
      expect(run.inFlightAtKill, `${context}: requests in flight at the kill`).toBeGreaterThan(0);
      expect(run.conflicts, `${context}: rejected writes mixed into the stream`).toBeGreaterThan(0);
      acked.push(...run.acked);

      // The file the dead process left is whole and holds every acknowledged write.
      const data = await readDataFile(dataDir);
      const stored = data.schedules.map((s) => s.id);
      expect(missing(acked, stored), `${context}: acknowledged but not in the file`).toEqual([]);
      expect(new Set(stored).size, `${context}: duplicate ids in the file`).toBe(stored.length);
      expect(data.zones.map((z) => z.id), context).toEqual([cityId]);

      server = await start(dataDir);
      expect(missing(acked, await getIds(server, 'schedules')), `${context}: acknowledged but not served after restart`).toEqual([]);
      expect(await getIds(server, 'zones'), context).toEqual([cityId]);
      expect((await readdir(dataDir)).filter((f) => f.endsWith('.tmp')), `${context}: temp files left after restart`).toEqual([]);
    }

    // The last restart is still a working store: it takes a write and shuts down cleanly.
    const last = await fetch(`${server.url}/api/schedules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ name: 'after the crashes', zoneId: cityId, validFrom: null, validTo: null, dayparts: [], priority: 0, weight: 1 }),
    });
    expect(last.status).toBe(201);
    acked.push(((await last.json()) as { id: string }).id);
    server.child.kill('SIGTERM');
    expect(await server.exited).toMatchObject({ code: 0 });
    expect(missing(acked, (await readDataFile(dataDir)).schedules.map((s) => s.id))).toEqual([]);
    // Four server starts dominate the run; the margin is for loaded CI machines, not expected use.
  }, 120_000);
});
