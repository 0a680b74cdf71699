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
import { randomBytes } from 'node:crypto';
import { SESSION_POLICY, type Role } from '../../content/index.js';
import { hashPassword, hashSessionId } from '../../server/services/auth.js';
import type { StoredUser } from '../../server/services/store.js';

/** The password of every account the helper creates. */
export const TEST_PASSWORD = 'correct-horse-battery';
// scrypt is slow on purpose: hash the shared test password once per test process.
let testHash: Promise<string> | null = null;
export const testPasswordHash = () => (testHash ??= hashPassword(TEST_PASSWORD));

/** An account made by the helper, with a session cookie ready to use. */
export interface TestUser {
  readonly user: StoredUser;
  readonly cookie: string;
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly dataDir: string;
  /** Demo screens with their tokens, when built with `demo: true`. */
  readonly demo: DemoScreen[];
  /** The system-wide admin the helper logs in as by default. */
  readonly admin: TestUser;
  /** Calls the API in memory as `as` (default: the admin), expects a 2xx and returns the parsed body. */
  api(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object, as?: TestUser): Promise<Record<string, unknown>>;
  /** Creates an account (password TEST_PASSWORD) and a session for it. */
  addUser(spec: { username: string; role: Role; zoneId: string | null; displayName?: string }): Promise<TestUser>;
  /** A new session for an existing account, as login would open it. */
  sessionCookie(userId: string): Promise<string>;
  /** Base URL once `listen()` has been called. */
  url: string;
  listen(): Promise<string>;
  /** Closes the app; the data dir is removed unless `keepData` (to reopen it as after a restart). */
  close(opts?: { keepData?: boolean }): Promise<void>;
}

/** Builds the real app against a store in a fresh temp dir; `demo` seeds the demo city. */
export async function buildTestApp(opts: { demo?: boolean; env?: Record<string, string>; dataDir?: string } = {}): Promise<TestApp> {
  // Given a data dir, the app reopens an earlier test app's store, as a restarted server would.
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'zonecast-test-')));
  // Housekeeping jobs run only in the tests that test them (they call runNow or turn them on).
  const config = loadConfig({ DATA_DIR: dataDir, ZONECAST_DEMO: 'false', ZONECAST_JOBS: 'false', ...opts.env });
  const app = await buildApp({ config });
  await app.ready();
  const demo = opts.demo ? ((await seedDemo({ store: app.store, media: app.media, dataDir })) ?? []) : [];
  const passwordHash = await testPasswordHash();

  async function sessionCookie(userId: string): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await app.store.write((draft) => {
      const now = Date.now();
      draft.sessions.push({
        idHash: hashSessionId(id),
        userId,
        createdAt: new Date(now).toISOString(),
        lastSeenAt: new Date(now).toISOString(),
        expiresAt: new Date(now + SESSION_POLICY.idleMs).toISOString(),
        absoluteExpiresAt: new Date(now + SESSION_POLICY.absoluteMs).toISOString(),
      });
    });
    return `${SESSION_POLICY.cookie}=${id}`;
  }
  async function addUser(spec: { username: string; role: Role; zoneId: string | null; displayName?: string }): Promise<TestUser> {
    const now = new Date().toISOString();
    const user: StoredUser = {
      id: `u-${spec.username}`,
      username: spec.username,
      displayName: spec.displayName ?? spec.username,
      role: spec.role,
      zoneId: spec.zoneId,
      disabled: false,
      passwordHash,
      createdAt: now,
      updatedAt: now,
      passwordChangedAt: now,
    };
    await app.store.write((draft) => {
      draft.users.push(user);
    });
    return { user, cookie: await sessionCookie(user.id) };
  }
  const existing = app.store.read().users.find((u) => u.username === 'test-admin');
  const admin = existing ? { user: existing, cookie: await sessionCookie(existing.id) } : await addUser({ username: 'test-admin', role: 'city-admin', zoneId: null });

  const t: TestApp = {
    app,
    dataDir,
    demo,
    admin,
    addUser,
    sessionCookie,
    url: '',
    async api(method, url, payload, as = admin) {
      const res = await app.inject({ method, url, payload, headers: { cookie: as.cookie } });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
      return (res.body ? JSON.parse(res.body) : {}) as Record<string, unknown>;
    },
    async listen() {
      await app.listen({ port: 0, host: '127.0.0.1' });
      t.url = `${config.tls ? 'https' : 'http'}://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      return t.url;
    },
    async close(opts: { keepData?: boolean } = {}) {
      await app.close();
      if (!opts.keepData) await rm(dataDir, { recursive: true, force: true });
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
