import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { io as ioClient, type Socket } from 'socket.io-client';
import { expect } from 'vitest';
import type { ClientToServerEvents, ServerToClientEvents } from '../../content/index.js';
import { buildApp } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { seedDemo, type DemoScreen } from '../../server/seed/demo.js';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly dataDir: string;
  /** Demo screens with their tokens, when built with `demo: true`. */
  readonly demo: DemoScreen[];
  /** Calls the API in memory, expects a 2xx and returns the parsed body. */
  api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object): Promise<Record<string, unknown>>;
  /** Base URL once `listen()` has been called. */
  url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Builds the real app against a store in a fresh temp dir; `demo` seeds the demo city. */
export async function buildTestApp(opts: { demo?: boolean; env?: Record<string, string> } = {}): Promise<TestApp> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'zonecast-test-'));
  const config = loadConfig({ DATA_DIR: dataDir, ZONECAST_DEMO: 'false', ...opts.env });
  const app = await buildApp({ config });
  await app.ready();
  const demo = opts.demo ? ((await seedDemo({ store: app.store, media: app.media, dataDir })) ?? []) : [];
  const t: TestApp = {
    app,
    dataDir,
    demo,
    url: '',
    async api(method, url, payload) {
      const res = await app.inject({ method, url, payload });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
      return (res.body ? JSON.parse(res.body) : {}) as Record<string, unknown>;
    },
    async listen() {
      await app.listen({ port: 0, host: '127.0.0.1' });
      t.url = `${config.tls ? 'https' : 'http'}://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      return t.url;
    },
    async close() {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

export type ScreenSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A real socket.io-client connection for a device token. */
export function connectScreen(url: string, token: string, opts: { rejectUnauthorized?: boolean } = {}): ScreenSocket {
  return ioClient(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, ...opts });
}

/** Resolves with the first payload of `event`, or rejects after `ms`. */
export function once<E extends keyof ServerToClientEvents>(socket: ScreenSocket, event: E, ms = 5000): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${String(event)} within ${ms} ms`)), ms);
    socket.once(event as 'screen:welcome', ((payload: unknown) => {
      clearTimeout(timer);
      resolve(payload as Parameters<ServerToClientEvents[E]>[0]);
    }) as never);
  });
}

/** Collects every payload of `event` on a socket. */
export function record<E extends keyof ServerToClientEvents>(socket: ScreenSocket, event: E): Parameters<ServerToClientEvents[E]>[0][] {
  const seen: Parameters<ServerToClientEvents[E]>[0][] = [];
  socket.on(event as 'screen:welcome', ((payload: unknown) => seen.push(payload as Parameters<ServerToClientEvents[E]>[0])) as never);
  return seen;
}
