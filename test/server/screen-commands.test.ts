import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTIFY_MS, type ScreenCommand } from '../../content/index.js';
import { buildTestApp, connectScreen, once, record, type ScreenSocket, type TestApp, type TestUser } from '../helpers/app.js';

/**
 * Remote identify and reload: `POST /api/screens/:id/commands` reaches the screen's own player
 * over its socket room, says how many players got it (0 when the screen is offline), is audited,
 * and is refused outside the caller's zone.
 */

let t: TestApp;
let editor: TestUser;
let beijiEditor: TestUser;
const sockets: ScreenSocket[] = [];

function token(id: string): string {
  const s = t.demo.find((d) => d.id === id);
  if (!s) throw new Error(`no demo screen ${id}`);
  return s.token;
}

async function command(screenId: string, body: unknown, as: TestUser) {
  const res = await t.app.inject({ method: 'POST', url: `/api/screens/${screenId}/commands`, payload: body as object, headers: { cookie: as.cookie } });
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  editor = await t.addUser({ username: 'chengguan-ed', role: 'editor', zoneId: 'chengguan' });
  beijiEditor = await t.addUser({ username: 'beiji-ed', role: 'editor', zoneId: 'beiji' });
  await t.listen();
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await t.close();
});

describe('remote screen commands', () => {
  it('delivers identify to the screen’s connected player only, with its name and zone, and audits it', async () => {
    const nanjie = connectScreen(t.url, token('scr-nanjie'));
    const other = connectScreen(t.url, token('scr-chengguan'));
    sockets.push(nanjie, other);
    await Promise.all([once(nanjie, 'screen:welcome'), once(other, 'screen:welcome')]);
    const elsewhere = record(other, 'screen:command');
    const got = once(nanjie, 'screen:command');
    const before = Date.now();

    const res = await command('scr-nanjie', { command: 'identify' }, editor);
    expect(res).toEqual({ status: 200, body: { delivered: 1 } });
    const cmd: ScreenCommand = await got;
    expect(cmd).toMatchObject({ command: 'identify', screenId: 'scr-nanjie', screenName: '南街社区党群服务中心LED屏', zoneId: 'nanjie' });
    expect(cmd.zoneName).toContain('南街社区');
    expect(cmd.issuedAt).toBeGreaterThanOrEqual(before);
    expect(IDENTIFY_MS).toBeGreaterThan(0);

    const { entries } = (await t.api('GET', '/api/audit?entity=screen&entityId=scr-nanjie')) as unknown as { entries: { action: string; zoneId: string | null; actor: { userId: string | null } }[] };
    expect(entries.find((e) => e.action === 'screen.identify')).toMatchObject({ zoneId: 'nanjie', actor: { userId: editor.user.id } });

    // A reload goes the same way; the other screen heard neither.
    const reload = once(nanjie, 'screen:command');
    expect(await command('scr-nanjie', { command: 'reload' }, editor)).toEqual({ status: 200, body: { delivered: 1 } });
    expect((await reload).command).toBe('reload');
    await t.api('GET', '/api/health');
    expect(elsewhere).toEqual([]);
  });

  it('answers delivered 0 for a screen that is offline', async () => {
    const res = await command('scr-potou', { command: 'identify' }, beijiEditor);
    expect(res).toEqual({ status: 200, body: { delivered: 0 } });
  });

  it('refuses a user outside the screen’s zone with 403', async () => {
    const res = await command('scr-potou', { command: 'identify' }, editor);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN_SCOPE');
  });

  it('refuses an unknown command with 400 and a code, and an unknown screen with 404', async () => {
    const bad = await command('scr-nanjie', { command: 'reboot' }, editor);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    const extra = await command('scr-nanjie', { command: 'identify', shell: 'rm -rf /' }, editor);
    expect(extra.status).toBe(400);
    expect((await command('scr-nope', { command: 'identify' }, editor)).status).toBe(404);
  });
});
