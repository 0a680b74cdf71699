import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOGIN_POLICY, SESSION_POLICY } from '../../content/index.js';
import { TEST_PASSWORD, buildTestApp, type TestApp } from '../helpers/app.js';
import { startServer } from '../helpers/process.js';

const open: TestApp[] = [];
async function app(opts: Parameters<typeof buildTestApp>[0] = {}): Promise<TestApp> {
  const t = await buildTestApp(opts);
  open.push(t);
  return t;
}
afterEach(async () => {
  for (const t of open.splice(0)) await t.close().catch(() => undefined);
});

async function login(t: TestApp, username: string, password: string, headers: Record<string, string> = {}) {
  const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, headers });
  const setCookie = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith(`${SESSION_POLICY.cookie}=`));
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown>, setCookie, cookie: setCookie?.split(';')[0] ?? '' };
}
const me = (t: TestApp, cookie: string) => t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });

describe('logging in', () => {
  it('sets an httpOnly, SameSite=Strict session cookie, and a new one at every login', async () => {
    const t = await app();
    const { user } = await t.addUser({ username: 'editor1', role: 'editor', zoneId: null });
    const first = await login(t, 'editor1', TEST_PASSWORD);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ user: { id: user.id, username: 'editor1', role: 'editor' }, permissions: expect.arrayContaining(['content:write']) });
    expect(first.body.user).not.toHaveProperty('passwordHash');
    expect(first.setCookie).toMatch(/HttpOnly/i);
    expect(first.setCookie).toMatch(/SameSite=Strict/i);
    expect(first.setCookie).toMatch(/Path=\//);
    expect(first.setCookie).not.toMatch(/Secure/);
    expect((await me(t, first.cookie)).statusCode).toBe(200);

    // The same browser logging in again gets a new id; the one it held stops working (no fixation).
    const second = await login(t, 'editor1', TEST_PASSWORD, { cookie: first.cookie });
    expect(second.cookie).not.toBe(first.cookie);
    expect((await me(t, first.cookie)).statusCode).toBe(401);
    expect((await me(t, second.cookie)).statusCode).toBe(200);
    // The store keeps only a hash of the session id.
    const id = second.cookie.split('=')[1] ?? '';
    expect(JSON.stringify(t.app.store.read().sessions)).not.toContain(id);
  });

  it('marks the cookie Secure behind an https PUBLIC_URL', async () => {
    const t = await app({ env: { PUBLIC_URL: 'https://zonecast.example.gov.cn' } });
    await t.addUser({ username: 'editor2', role: 'editor', zoneId: null });
    expect((await login(t, 'editor2', TEST_PASSWORD)).setCookie).toMatch(/Secure/);
  });

  it('answers a wrong password and an unknown user alike, in Chinese and English', async () => {
    const t = await app();
    await t.addUser({ username: 'editor3', role: 'editor', zoneId: null });
    const wrong = await login(t, 'editor3', 'not-the-password');
    const unknown = await login(t, 'nobody', 'not-the-password');
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ ok: false, code: 'LOGIN_FAILED', message: { zh: '用户名或密码错误' } });
      expect(r.setCookie).toBeUndefined();
    }
  });

  it('locks an account after repeated failures, and the lock survives a restart', async () => {
    const t = await app();
    await t.addUser({ username: 'target', role: 'editor', zoneId: null });
    const codes: string[] = [];
    for (let i = 0; i < LOGIN_POLICY.maxFailures; i++) codes.push((await login(t, 'target', `guess-${i}`)).body.code as string);
    expect(codes).toEqual([...Array(LOGIN_POLICY.maxFailures - 1).fill('LOGIN_FAILED'), 'LOGIN_LOCKED']);
    // Locked: even the right password is refused, with 429.
    const right = await login(t, 'target', TEST_PASSWORD);
    expect(right.status).toBe(429);
    expect(right.body.code).toBe('LOGIN_LOCKED');

    // Another server process (here: the app reopened on the same store) sees the same lock.
    await t.close({ keepData: true });
    open.splice(open.indexOf(t), 1);
    const again = await app({ dataDir: t.dataDir });
    expect((await login(again, 'target', TEST_PASSWORD)).body.code).toBe('LOGIN_LOCKED');
    expect(again.app.store.read().audit.outbox.length + (again.app.store.read().audit.head?.seq ?? 0)).toBeGreaterThan(0);

    // Once the lock has run out (moved into the past here), the right password works and clears the count.
    await again.app.store.write((d) => {
      for (const c of d.loginCounters) if (c.lockedUntil) c.lockedUntil = new Date(Date.now() - 1000).toISOString();
    });
    expect((await login(again, 'target', TEST_PASSWORD)).status).toBe(200);
    expect(again.app.store.read().loginCounters.some((c) => c.key === 'user:target')).toBe(false);
  });

  it('throttles an address that guesses many accounts, counting in the store', async () => {
    const t = await app();
    await t.addUser({ username: 'someone', role: 'editor', zoneId: null });
    // As if this address had already failed just under the limit (each failure costs a real scrypt).
    await t.app.store.write((d) => {
      d.loginCounters.push({ key: 'addr:127.0.0.1', failures: LOGIN_POLICY.maxFailuresPerAddress - 1, firstAt: new Date().toISOString(), lockedUntil: null });
    });
    expect((await login(t, 'guess-a', 'x')).body.code).toBe('LOGIN_FAILED');
    const blocked = await login(t, 'someone', TEST_PASSWORD);
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('LOGIN_THROTTLED');
  });

  it('keeps sessions across a restart, and ends them at logout and expiry', async () => {
    const t = await app();
    await t.addUser({ username: 'keeper', role: 'reviewer', zoneId: null });
    const { cookie } = await login(t, 'keeper', TEST_PASSWORD);
    await t.close({ keepData: true });
    open.splice(open.indexOf(t), 1);
    const again = await app({ dataDir: t.dataDir });
    expect((await me(again, cookie)).statusCode).toBe(200);

    const out = await again.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } });
    expect(out.statusCode).toBe(204);
    const after = await me(again, cookie);
    expect(after.statusCode).toBe(401);
    expect(JSON.parse(after.body).code).toBe('AUTH_REQUIRED');

    const { cookie: c2 } = await login(again, 'keeper', TEST_PASSWORD);
    await again.app.store.write((d) => {
      for (const s of d.sessions) s.expiresAt = new Date(Date.now() - 1).toISOString();
    });
    const expired = await me(again, c2);
    expect(expired.statusCode).toBe(401);
    expect(JSON.parse(expired.body).code).toBe('SESSION_EXPIRED');
  });

  it('refuses a state-changing request from another origin', async () => {
    const t = await app();
    const res = await t.app.inject({ method: 'POST', url: '/api/zones', payload: {}, headers: { cookie: t.admin.cookie, origin: 'https://evil.example', host: 'localhost:3000' } });
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body).code).toBe('CROSS_SITE_REQUEST');
  });
});

describe('passwords and accounts', () => {
  it('changes one’s own password: checks the current one, the strength, and ends other sessions', async () => {
    const t = await app();
    const u = await t.addUser({ username: 'changer', role: 'editor', zoneId: null });
    const other = await t.sessionCookie(u.user.id);
    const change = (current: string, next: string) => t.app.inject({ method: 'POST', url: '/api/auth/password', payload: { current, next }, headers: { cookie: u.cookie } });
    expect(JSON.parse((await change('wrong-current-pw', 'a-new-long-password')).body).code).toBe('PASSWORD_WRONG');
    expect(JSON.parse((await change(TEST_PASSWORD, 'changer-and-more')).body).code).toBe('PASSWORD_WEAK');
    expect((await change(TEST_PASSWORD, 'short')).statusCode).toBe(400);
    expect((await change(TEST_PASSWORD, 'a-new-long-password')).statusCode).toBe(204);
    expect((await me(t, u.cookie)).statusCode).toBe(200);
    expect((await me(t, other)).statusCode).toBe(401);
    expect((await login(t, 'changer', TEST_PASSWORD)).status).toBe(401);
    expect((await login(t, 'changer', 'a-new-long-password')).status).toBe(200);
  });

  it('lets an admin create, re-scope and disable users within their subtree, never the last admin', async () => {
    const t = await app({ demo: true });
    const cityAdmin = await t.addUser({ username: 'city-admin', role: 'city-admin', zoneId: 'binzhou' });
    const call = (method: 'POST' | 'PATCH', url: string, payload: object, cookie = cityAdmin.cookie) => t.app.inject({ method, url, payload, headers: { cookie } });

    const created = await call('POST', '/api/users', { username: 'beiji-editor', displayName: '北极镇编辑', role: 'editor', zoneId: 'beiji', disabled: false, password: 'first-password-1' });
    expect(created.statusCode).toBe(201);
    const id = JSON.parse(created.body).id as string;
    expect(JSON.parse((await call('POST', '/api/users', { username: 'beiji-editor', displayName: 'x', role: 'editor', zoneId: 'beiji', disabled: false, password: 'first-password-1' })).body).code).toBe('USERNAME_TAKEN');
    expect(JSON.parse((await call('POST', '/api/users', { username: 'town-admin', displayName: 'x', role: 'city-admin', zoneId: 'beiji', disabled: false, password: 'first-password-1' })).body).code).toBe('ROLE_ZONE_INVALID');
    // A city admin of Binzhou cannot create a system-wide account.
    expect(JSON.parse((await call('POST', '/api/users', { username: 'root2', displayName: 'x', role: 'city-admin', zoneId: null, disabled: false, password: 'first-password-1' })).body).code).toBe('FORBIDDEN_SCOPE');

    const session = (await login(t, 'beiji-editor', 'first-password-1')).cookie;
    expect((await me(t, session)).statusCode).toBe(200);
    const moved = await call('PATCH', `/api/users/${id}`, { zoneId: 'chengguan' });
    expect(JSON.parse(moved.body)).toMatchObject({ zoneId: 'chengguan' });
    // Re-scoping ends the user's sessions: their rights changed.
    expect((await me(t, session)).statusCode).toBe(401);

    expect((await call('PATCH', `/api/users/${id}`, { disabled: true })).statusCode).toBe(200);
    const refused = await login(t, 'beiji-editor', 'first-password-1');
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('ACCOUNT_DISABLED');

    // The system-wide test admin and the city admin: disabling both would leave nobody to administer.
    expect((await call('PATCH', `/api/users/${t.admin.user.id}`, { disabled: true }, t.admin.cookie)).statusCode).toBe(200);
    const last = await call('PATCH', `/api/users/${cityAdmin.user.id}`, { disabled: true }, cityAdmin.cookie);
    expect(JSON.parse(last.body).code).toBe('LAST_ADMIN');
  });
});

describe('first start', () => {
  it('creates the admin with a generated password printed once, and lists one demo user per role', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'zonecast-first-'));
    try {
      const server = await startServer({ dataDir, env: { ZONECAST_DEMO: 'true' }, readyMs: 90_000 });
      const out = server.output();
      const m = /First admin: admin \/ (\S+)/.exec(out);
      expect(m?.[1], out).toBeTruthy();
      for (const line of ['binzhou-admin', 'chengguan-editor', 'chengguan-reviewer', 'binzhou-inspector']) expect(out).toContain(line);
      expect(out).toMatch(/chengguan-reviewer \/ \S+ +审核员 reviewer, 城关街道/);
      const res = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: m?.[1] }) });
      expect(res.status).toBe(200);
      server.child.kill('SIGTERM');
      await server.exited;

      const again = await startServer({ dataDir, env: { ZONECAST_DEMO: 'true' }, readyMs: 90_000 });
      expect(again.output()).not.toContain('First admin: admin /');
      expect(again.output()).toContain('chengguan-editor');
      again.child.kill('SIGTERM');
      await again.exited;
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
