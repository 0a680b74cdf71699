import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Manifest } from '../../content/index.js';
import { buildApp } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { ensureAdmin } from '../../server/seed/admin.js';
import { seedDemo } from '../../server/seed/demo.js';
import { SESSION_POLICY } from '../../content/index.js';
import { BENCH_ADMIN } from './server-process.js';
import type { TestCertificate } from './cold-start-tls.js';

/** The demo city served over HTTPS from one data directory, stopped and started again on one port. */
export interface ColdStartServer {
  readonly port: number;
  /** The device token of `screenId`. */
  readonly token: string;
  readonly up: boolean;
  /** The manifest the screen gets now. */
  manifest(): Promise<Manifest>;
  start(): Promise<void>;
  /** Closes the server: afterwards the port refuses connections. */
  stop(): Promise<void>;
}

async function listen(dataDir: string, cert: TestCertificate, port: number): Promise<FastifyInstance> {
  const config = loadConfig({ DATA_DIR: dataDir, TLS_CERT: cert.certPath, TLS_KEY: cert.keyPath, ZONECAST_DEMO: 'false' });
  const app = await buildApp({ config });
  await app.ready();
  await app.listen({ port, host: '127.0.0.1' });
  return app;
}

/**
 * Seeds the demo city in `dataDir` and starts serving it with TLS on a free port of 127.0.0.1;
 * `screenId` is made always open, so that a run at night measures content, not the idle screen.
 * The server runs in this process: a cold start asks little of it (the app shell and media come
 * from the player's caches), and it can be closed and started again on the same port and data.
 */
export async function startColdStartServer(dataDir: string, cert: TestCertificate, screenId: string): Promise<ColdStartServer> {
  let app: FastifyInstance | null = await listen(dataDir, cert, 0);
  const port = (app.server.address() as AddressInfo).port;
  const demo = (await seedDemo({ store: app.store, media: app.media, dataDir })) ?? [];
  const token = demo.find((s) => s.id === screenId)?.token;
  if (!token) throw new Error(`the demo has no screen ${screenId}; it has ${demo.map((s) => s.id).join(', ')}`);
  // The API wants a staff session: the first admin's, opened as a login would (it lives in the store, so it outlasts restarts).
  await ensureAdmin(app.store, BENCH_ADMIN.password);
  const { sessionId } = await app.auth.login(BENCH_ADMIN.username, BENCH_ADMIN.password, '127.0.0.1', null);
  const headers = { cookie: `${SESSION_POLICY.cookie}=${sessionId}` };
  const current = () => {
    if (!app) throw new Error('the server is stopped');
    return app;
  };
  const got = await current().inject({ method: 'GET', url: `/api/screens/${screenId}`, headers });
  if (got.statusCode !== 200) throw new Error(`GET /api/screens/${screenId} → ${got.statusCode}: ${got.body}`);
  const { id: _id, createdAt: _created, updatedAt: _updated, ...fields } = JSON.parse(got.body) as Record<string, unknown>;
  const put = await current().inject({ method: 'PUT', url: `/api/screens/${screenId}`, headers, payload: { ...fields, openingHours: [] } });
  if (put.statusCode !== 200) throw new Error(`PUT /api/screens/${screenId} → ${put.statusCode}: ${put.body}`);

  return {
    port,
    token,
    get up() {
      return app !== null;
    },
    async manifest() {
      const res = await current().inject({ method: 'GET', url: `/api/screens/${screenId}/manifest`, headers });
      if (res.statusCode !== 200) throw new Error(`GET manifest → ${res.statusCode}: ${res.body}`);
      return JSON.parse(res.body) as Manifest;
    },
    async start() {
      if (!app) app = await listen(dataDir, cert, port);
    },
    async stop() {
      const a = app;
      app = null;
      await a?.close();
    },
  };
}
