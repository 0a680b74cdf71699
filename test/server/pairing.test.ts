import { randomBytes } from 'node:crypto';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents, ServerToClientEvents } from '../../content/index.js';
import { buildTestApp, connectScreen, once, type TestApp } from '../helpers/app.js';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

let t: TestApp;
let url = '';
const open: Client[] = [];
beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  url = await t.listen();
});
afterAll(async () => {
  for (const s of open) s.disconnect();
  await t.close();
});

function pairingSocket(secret: string, viewport = { width: 1280, height: 720 }): Client {
  const s: Client = ioClient(url, { auth: { pairingSecret: secret, viewport }, transports: ['websocket'], reconnection: false, forceNew: true });
  open.push(s);
  return s;
}
function staffSocket(cookie: string): Client {
  const s: Client = ioClient(url, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie } });
  open.push(s);
  return s;
}
const screenInput = { zoneId: 'chengguan', name: '城关街道二楼LED屏', width: 1280, height: 720, pixelPitchMm: 2.5, viewingDistanceM: 5, openingHours: [], layoutId: 'lay-chengguan' };
const secret = () => randomBytes(24).toString('base64url');
/** The next `screen:status` about one screen (others may still be settling from earlier tests). */
const statusOf = (s: Client, screenId: string) =>
  new Promise<Parameters<ServerToClientEvents['screen:status']>[0]>((resolve) => {
    const on = (st: Parameters<ServerToClientEvents['screen:status']>[0]) => {
      if (st.screenId !== screenId) return;
      s.off('screen:status', on);
      resolve(st);
    };
    s.on('screen:status', on);
  });
const waitConnect = (s: Client) =>
  new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });

describe('pairing a fresh player', () => {
  it('shows a code, gives the same code back after a reconnect, and lists it for admins with its size', async () => {
    const mine = secret();
    const first = pairingSocket(mine);
    const { code, expiresAt } = await once(first, 'pairing:code');
    expect(code).toMatch(/^\d{6}$/);
    expect(expiresAt).toBeGreaterThan(Date.now());
    first.disconnect();
    const again = pairingSocket(mine);
    expect((await once(again, 'pairing:code')).code).toBe(code);
    const list = (await t.api('GET', '/api/pairings')) as unknown as { code: string; viewport: unknown }[];
    expect(list.find((p) => p.code === code)?.viewport).toEqual({ width: 1280, height: 720 });
    again.disconnect();
  });

  it('hands the device token to the player when an admin claims the code; the token then plays', async () => {
    const player = pairingSocket(secret());
    const { code } = await once(player, 'pairing:code');
    const claimed = once(player, 'pairing:claimed');
    const res = await t.api('POST', '/api/pairing/claim', { code, screen: screenInput });
    const screenId = (res.screen as { id: string }).id;
    const { deviceToken, screenId: got } = await claimed;
    expect(got).toBe(screenId);
    // Stored hashed only.
    expect(JSON.stringify(t.app.store.read().screens)).not.toContain(deviceToken);

    const screen = connectScreen(url, deviceToken);
    open.push(screen as Client);
    const welcome = await once(screen, 'screen:welcome');
    expect(welcome.screenId).toBe(screenId);
    expect(welcome.zoneIds).toEqual(['chengguan', 'binzhou']);
    // The code is used up.
    const reuse = await t.app.inject({ method: 'POST', url: '/api/pairing/claim', payload: { code, screen: screenInput }, headers: { cookie: t.admin.cookie } });
    expect(reuse.statusCode).toBe(404);
    expect(JSON.parse(reuse.body).code).toBe('PAIRING_CODE_INVALID');
    screen.disconnect();
  });

  it('gives a player that was away when its code was claimed its token on reconnect', async () => {
    const mine = secret();
    const player = pairingSocket(mine);
    const { code } = await once(player, 'pairing:code');
    player.disconnect();
    await t.api('POST', '/api/pairing/claim', { code, screen: { ...screenInput, name: '离线时配对的屏' } });
    const back = pairingSocket(mine);
    const { deviceToken } = await once(back, 'pairing:claimed');
    const screen = connectScreen(url, deviceToken);
    open.push(screen as Client);
    await once(screen, 'screen:welcome');
    screen.disconnect();
  });

  it('refuses an unknown code and a claim outside the admin’s subtree', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/api/pairing/claim', payload: { code: '000000', screen: screenInput }, headers: { cookie: t.admin.cookie } });
    expect([404]).toContain(bad.statusCode);
    const player = pairingSocket(secret());
    const { code } = await once(player, 'pairing:code');
    const townAdmin = await t.addUser({ username: 'xunyi-admin', role: 'city-admin', zoneId: 'binzhou' });
    await t.app.store.write((d) => {
      d.zones.push({ id: 'xunyi', tier: 'city', parentId: null, divisionCode: '610429000000', shortName: '旬邑县', name: '' });
    });
    const out = await t.app.inject({ method: 'POST', url: '/api/pairing/claim', payload: { code, screen: { ...screenInput, zoneId: 'xunyi', layoutId: null } }, headers: { cookie: townAdmin.cookie } });
    expect(out.statusCode).toBe(403);
    expect(JSON.parse(out.body).code).toBe('FORBIDDEN_SCOPE');
    player.disconnect();
  });
});

describe('pairing limits', () => {
  it('caps how many players one address may keep waiting', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 20; i++) codes.add((await t.app.pairing.open(secret(), null, '10.9.9.9')).pairing.code);
    expect(codes.size).toBe(20);
    await expect(t.app.pairing.open(secret(), null, '10.9.9.9')).rejects.toMatchObject({ code: 'PAIRING_THROTTLED' });
    // Another address is not held up by that one.
    expect((await t.app.pairing.open(secret(), null, '10.9.9.10')).pairing.code).toMatch(/^\d{6}$/);
  });

  it('starts afresh when the screen its code was claimed into was deleted before it came back', async () => {
    const mine = secret();
    const player = pairingSocket(mine);
    const { code } = await once(player, 'pairing:code');
    player.disconnect();
    const res = await t.api('POST', '/api/pairing/claim', { code, screen: { ...screenInput, name: '将被删除的屏' } });
    await t.api('DELETE', `/api/screens/${(res.screen as { id: string }).id}`);
    const back = pairingSocket(mine);
    const fresh = await once(back, 'pairing:code');
    back.disconnect();
    const again = pairingSocket(mine);
    // A new code, and the same one on the next reconnect: the stale claim is gone.
    expect((await once(again, 'pairing:code')).code).toBe(fresh.code);
    again.disconnect();
  });
});

describe('revoking a screen', () => {
  it('tells the player, disconnects it, and refuses its token afterwards', async () => {
    const demo = t.demo.find((s) => s.id === 'scr-nanjie');
    if (!demo) throw new Error('demo screen missing');
    const screen = connectScreen(url, demo.token);
    open.push(screen as Client);
    await once(screen, 'screen:welcome');
    const revoked = once(screen, 'screen:revoked');
    const gone = new Promise<string>((resolve) => screen.once('disconnect', resolve));
    await t.api('POST', '/api/screens/scr-nanjie/revoke');
    expect(await revoked).toEqual({ screenId: 'scr-nanjie' });
    await gone;

    const retry = connectScreen(url, demo.token);
    open.push(retry as Client);
    const err = await new Promise<Error & { data?: { code: string } }>((resolve) => retry.once('connect_error', resolve));
    expect(err.data?.code).toBe('DEVICE_TOKEN_INVALID');
    const http = await t.app.inject({ method: 'GET', url: '/api/player/manifest', headers: { authorization: `Bearer ${demo.token}` } });
    expect(http.statusCode).toBe(401);
    expect(t.app.store.read().audit.head?.seq).toBeGreaterThan(0);
  });
});

describe('live screen state for staff', () => {
  it('lists the online screens of a zone and pushes changes, only within the user’s subtree', async () => {
    const editor = await t.addUser({ username: 'cg-editor', role: 'editor', zoneId: 'chengguan' });
    const staff = staffSocket(editor.cookie);
    await waitConnect(staff);
    const demo = t.demo.find((s) => s.id === 'scr-chengguan');
    if (!demo) throw new Error('demo screen missing');
    const before = await staff.timeout(5000).emitWithAck('screens:watch', { zoneId: 'chengguan' });
    expect(before.ok).toBe(true);
    expect(before.ok && before.data.online).not.toContain('scr-chengguan');

    const online = statusOf(staff, 'scr-chengguan');
    const screen = connectScreen(url, demo.token);
    open.push(screen as Client);
    await once(screen, 'screen:welcome');
    expect(await online).toMatchObject({ screenId: 'scr-chengguan', zoneId: 'chengguan', online: true });
    const now = await staff.timeout(5000).emitWithAck('screens:watch', { zoneId: 'chengguan' });
    expect(now.ok && now.data.online).toContain('scr-chengguan');

    const offline = statusOf(staff, 'scr-chengguan');
    screen.disconnect();
    expect(await offline).toMatchObject({ screenId: 'scr-chengguan', online: false });

    const beiji = await staff.timeout(5000).emitWithAck('screens:watch', { zoneId: 'beiji' });
    expect(beiji).toMatchObject({ ok: false, code: 'FORBIDDEN_SCOPE' });
  });

  it('disconnects a staff socket when its session is logged out', async () => {
    const user = await t.addUser({ username: 'leaver', role: 'inspector', zoneId: 'binzhou' });
    const staff = staffSocket(user.cookie);
    await waitConnect(staff);
    const gone = new Promise<string>((resolve) => staff.once('disconnect', resolve));
    await t.api('POST', '/api/auth/logout', undefined, user);
    expect(await gone).toBe('io server disconnect');
  });
});
