import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert, Zone } from '../../content/index.js';
import { buildTestApp, type TestApp, type TestUser } from '../helpers/app.js';

/**
 * CAP 1.2 ingest end to end: an early-warning system posts its XML with the API token of a
 * city-level editor (made through POST /api/tokens, the documented credential).
 */

const ZONES: Zone[] = [
  { id: 'binzhou', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市', name: '' },
  { id: 'chengguan', tier: 'town', parentId: 'binzhou', divisionCode: '610482001000', shortName: '城关街道', name: '' },
  { id: 'beiji', tier: 'town', parentId: 'binzhou', divisionCode: '610482101000', shortName: '北极镇', name: '' },
  { id: 'xunyi', tier: 'city', parentId: null, divisionCode: '610429000000', shortName: '旬邑县', name: '' },
];

/** A CAP time (with the +08:00 offset official feeds use) `hours` from now. */
function capTime(hours: number): string {
  return `${new Date(Date.now() + hours * 3_600_000 + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`;
}

/** A sample from test/fixtures/cap, its expiry moved to `expiresInH` hours from now. */
function fixture(name: string, expiresInH = 6): string {
  return readFileSync(new URL(`../fixtures/cap/${name}`, import.meta.url), 'utf8').replace(/<(cap:)?expires>[^<]*</g, `<$1expires>${capTime(expiresInH)}<`);
}

let t: TestApp;
let editor: TestUser;
let token: string;

/** Makes an API token for `user` through the API, as the docs tell an admin to. */
async function tokenOf(user: TestUser, name = '陕西省气象台 CAP 推送'): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/api/tokens', payload: { name }, headers: { cookie: user.cookie } });
  expect(res.statusCode, res.body).toBe(201);
  return (JSON.parse(res.body) as { secret: string }).secret;
}

function post(xml: string, opts: { token?: string; contentType?: string; headers?: Record<string, string> } = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/api/cap',
    payload: xml,
    headers: { 'content-type': opts.contentType ?? 'application/cap+xml', authorization: `Bearer ${opts.token ?? token}`, ...opts.headers },
  });
}
const json = (res: { body: string }) => JSON.parse(res.body) as { action: string; alert: Alert | null; code: string; detail?: string; message: { zh: string; en: string } };

/** The alerts and the audit head, to show that a refused message changed nothing. */
function snapshot() {
  const data = t.app.store.read();
  return { alerts: JSON.stringify(data.alerts), deliveries: t.app.deliveries.read().size, audit: data.audit.head };
}

beforeEach(async () => {
  t = await buildTestApp();
  await t.app.store.write((d) => void d.zones.push(...ZONES));
  // The documented CAP credential: a dedicated editor account bound to the city zone.
  editor = await t.addUser({ username: 'binzhou-cap', role: 'editor', zoneId: 'binzhou', displayName: 'CAP 预警接入' });
  token = await tokenOf(editor);
});
afterEach(async () => t.close());

describe('CAP 1.2 ingest', () => {
  it('broadcasts a heavy-rain warning posted with a city-level editor’s API token', async () => {
    const res = await post(fixture('heavy-rain-alert.xml'));
    expect(res.statusCode, res.body).toBe(201);
    const { action, alert } = json(res);
    expect(action).toBe('created');
    expect(alert).toMatchObject({
      source: 'cap',
      capRef: { sender: '61000041600000', identifier: '61000041600000_20260712083000' },
      severity: 'severe',
      title: '陕西省气象台发布暴雨橙色预警信号',
      targetZoneIds: ['binzhou'],
      revision: 1,
      clearedAt: null,
    });
    expect(alert?.text).toContain('彬州市大部分地区将出现50毫米以上强降水');
    expect(Math.abs(Date.parse(alert?.expiresAt ?? '') - (Date.now() + 6 * 3_600_000))).toBeLessThan(120_000);
    // On record as the feed's account.
    const { entries } = (await t.api('GET', '/api/audit?entity=alert')) as { entries: { action: string; actor: object }[] };
    expect(entries.find((e) => e.action === 'alert.create')?.actor).toEqual({ kind: 'staff', userId: editor.user.id, username: 'binzhou-cap' });
  });

  it('answers the same message posted twice with the alert it made the first time', async () => {
    const first = json(await post(fixture('heavy-rain-alert.xml')));
    const before = snapshot();
    const again = await post(fixture('heavy-rain-alert.xml'));
    expect(again.statusCode).toBe(200);
    expect(json(again)).toMatchObject({ action: 'duplicate', alert: { id: first.alert?.id } });
    expect(snapshot()).toEqual(before);
    expect(t.app.store.read().alerts).toHaveLength(1);
  });

  it('amends the alert with an Update and clears it with a Cancel, each once', async () => {
    const created = json(await post(fixture('heavy-rain-alert.xml'))).alert;

    const update = await post(fixture('heavy-rain-update.xml', 10));
    expect(update.statusCode, update.body).toBe(200);
    expect(json(update)).toMatchObject({ action: 'amended', alert: { id: created?.id, revision: 2, severity: 'extreme', title: '陕西省气象台将暴雨橙色预警信号升级为红色', targetZoneIds: ['binzhou'] } });
    const amended = snapshot();
    const updateAgain = await post(fixture('heavy-rain-update.xml', 10));
    expect(json(updateAgain)).toMatchObject({ action: 'duplicate', alert: { revision: 2 } });
    expect(snapshot()).toEqual(amended);

    const cancel = await post(fixture('heavy-rain-cancel.xml'));
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect(json(cancel)).toMatchObject({ action: 'cleared', alert: { id: created?.id, clearedBy: editor.user.id } });
    expect(json(cancel).alert?.clearedAt).not.toBeNull();
    const cleared = snapshot();
    const cancelAgain = await post(fixture('heavy-rain-cancel.xml'));
    expect(cancelAgain.statusCode).toBe(200);
    expect(json(cancelAgain).action).toBe('duplicate');
    expect(snapshot()).toEqual(cleared);
    expect(t.app.store.read().alerts).toHaveLength(1);
  });

  it('follows a chain of Updates that each name only the message before them, to the Cancel', async () => {
    const ORIGINAL = '61000041600000,61000041600000_20260712083000,2026-07-12T08:30:00+08:00';
    const FIRST_UPDATE = '61000041600000,61000041600000_20260712113000,2026-07-12T11:30:00+08:00';
    /** An Update or Cancel fixture as message `identifier`, naming only `references`. */
    const chained = (name: string, identifier: string, references: string, expiresInH = 10) =>
      fixture(name, expiresInH)
        .replace(/<identifier>[^<]*</, `<identifier>61000041600000_${identifier}<`)
        .replace(/<references>[^<]*</, `<references>${references}<`);
    const created = json(await post(fixture('heavy-rain-alert.xml'))).alert;
    expect(json(await post(fixture('heavy-rain-update.xml', 10)))).toMatchObject({ action: 'amended', alert: { id: created?.id, revision: 2 } });

    // The second Update names the first only, as many feeds do; it changes the text.
    const second = chained('heavy-rain-update.xml', '20260712143000', FIRST_UPDATE).replace('降水量已达100毫米以上', '降水量已达150毫米以上');
    const amended = await post(second);
    expect(amended.statusCode, amended.body).toBe(200);
    expect(json(amended)).toMatchObject({ action: 'amended', alert: { id: created?.id, revision: 3 } });
    expect(json(amended).alert?.text).toContain('150毫米');
    const after = snapshot();
    expect(json(await post(second))).toMatchObject({ action: 'duplicate', alert: { revision: 3 } });
    expect(snapshot()).toEqual(after);
    // A feed that sends an Update twice at once: one amendment, one duplicate.
    const twice = chained('heavy-rain-update.xml', '20260712144500', '61000041600000,61000041600000_20260712143000,2026-07-12T14:30:00+08:00').replace('降水量已达100毫米以上', '降水量已达160毫米以上');
    const both = (await Promise.all([post(twice), post(twice)])).map((r) => json(r));
    expect(both.map((r) => r.action).sort()).toEqual(['amended', 'duplicate']);
    expect(both.map((r) => r.alert?.revision)).toEqual([4, 4]);
    expect(t.app.store.read().alerts[0]?.revision).toBe(4);

    // An Update that changes nothing still joins the chain: the Cancel after it names only it.
    const third = chained('heavy-rain-update.xml', '20260712150000', '61000041600000,61000041600000_20260712144500,2026-07-12T14:45:00+08:00').replace(
      '降水量已达100毫米以上',
      '降水量已达160毫米以上',
    );
    expect(json(await post(third))).toMatchObject({ action: 'duplicate', alert: { revision: 4 } });
    const cancel = await post(chained('heavy-rain-cancel.xml', '20260712180000', '61000041600000,61000041600000_20260712150000,2026-07-12T15:00:00+08:00'));
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect(json(cancel)).toMatchObject({ action: 'cleared', alert: { id: created?.id, revision: 4 } });
    expect(t.app.store.read().alerts).toHaveLength(1);
    // A message naming none of them is still unknown.
    expect((await post(chained('heavy-rain-update.xml', '20260712190000', ORIGINAL.replace('083000', '070000')))).statusCode).toBe(404);
  });

  it('targets the zone a message names only in its areaDesc', async () => {
    const res = await post(fixture('area-desc-only.xml'));
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res).alert).toMatchObject({ severity: 'moderate', title: '彬州市气象台发布大风黄色预警信号', targetZoneIds: ['beiji'] });
  });

  const refusals: [sample: string, status: number, code: string][] = [
    ['malformed.xml', 400, 'CAP_MALFORMED'],
    ['cap-1.1.xml', 422, 'CAP_NAMESPACE'],
    ['billion-laughs.xml', 400, 'CAP_UNSAFE_XML'],
    ['xxe.xml', 400, 'CAP_UNSAFE_XML'],
  ];
  for (const [sample, status, code] of refusals) {
    it(`refuses ${sample} with ${status} ${code} and changes nothing`, async () => {
      const before = snapshot();
      const res = await post(fixture(sample));
      expect(res.statusCode, res.body).toBe(status);
      expect(json(res)).toMatchObject({ ok: false, code });
      expect(json(res).message.zh.length).toBeGreaterThan(0);
      expect(res.body).not.toContain('root:');
      expect(snapshot()).toEqual(before);
    });
  }

  it('answers 404 to an Update or a Cancel of an alert it never received, and changes nothing', async () => {
    const before = snapshot();
    for (const sample of ['heavy-rain-update.xml', 'heavy-rain-cancel.xml']) {
      const res = await post(fixture(sample));
      expect(res.statusCode, res.body).toBe(404);
      expect(json(res).code).toBe('CAP_REFERENCE_UNKNOWN');
    }
    expect(snapshot()).toEqual(before);
  });

  it('refuses areas outside the account’s city, and areas that match no zone', async () => {
    const before = snapshot();
    const xunyi = fixture('heavy-rain-alert.xml').replaceAll('610482000000', '610429000000').replace('_20260712083000<', '_X<');
    const outside = await post(xunyi);
    expect(outside.statusCode, outside.body).toBe(403);
    expect(json(outside).code).toBe('FORBIDDEN_SCOPE');
    const beijing = fixture('heavy-rain-alert.xml').replaceAll('610482000000', '110101000000').replaceAll('彬州市</areaDesc>', '东城区</areaDesc>');
    const nowhere = await post(beijing);
    expect(nowhere.statusCode, nowhere.body).toBe(422);
    expect(json(nowhere).code).toBe('CAP_NO_ZONE');
    expect(snapshot()).toEqual(before);
  });

  it('checks Test and Exercise messages in full but never broadcasts them', async () => {
    const before = snapshot();
    for (const status of ['Test', 'Exercise', 'System', 'Draft']) {
      const res = await post(fixture('heavy-rain-alert.xml').replace('<status>Actual', `<status>${status}`));
      expect(res.statusCode, res.body).toBe(202);
      expect(json(res)).toEqual({ action: 'ignored', alert: null });
    }
    // Checked all the same: a test message for a zone outside the account is refused.
    const outside = await post(fixture('heavy-rain-alert.xml').replace('<status>Actual', '<status>Test').replaceAll('610482000000', '610429000000'));
    expect(outside.statusCode).toBe(403);
    expect(snapshot()).toEqual(before);
  });

  it('refuses Restricted and Private messages: public screens are for Public ones', async () => {
    const before = snapshot();
    const res = await post(fixture('heavy-rain-alert.xml').replace('<scope>Public', '<scope>Restricted'));
    expect(res.statusCode).toBe(422);
    expect(json(res).code).toBe('CAP_NOT_PUBLIC');
    expect(snapshot()).toEqual(before);
  });

  it('takes application/xml and text/xml, refuses other types and bodies over 256 KB', async () => {
    expect((await post(fixture('area-desc-only.xml'), { contentType: 'text/xml; charset=utf-8' })).statusCode).toBe(201);
    expect((await post(fixture('heavy-rain-alert.xml'), { contentType: 'application/xml' })).statusCode).toBe(201);
    const before = snapshot();
    const asJson = await t.app.inject({ method: 'POST', url: '/api/cap', payload: { alert: 'x' }, headers: { authorization: `Bearer ${token}` } });
    expect(asJson.statusCode).toBe(415);
    expect(json(asJson).code).toBe('UNSUPPORTED_CONTENT_TYPE');
    expect((await post(fixture('heavy-rain-alert.xml'), { contentType: 'text/plain' })).statusCode).toBe(415);
    const huge = fixture('heavy-rain-alert.xml').replace('</alert>', `<!-- ${'雨'.repeat(100_000)} --></alert>`);
    const big = await post(huge);
    expect(big.statusCode).toBe(413);
    expect(snapshot()).toEqual(before);
  });
});

describe('the CAP credential', () => {
  it('needs a token or a session, and a valid one', async () => {
    const none = await t.app.inject({ method: 'POST', url: '/api/cap', payload: fixture('heavy-rain-alert.xml'), headers: { 'content-type': 'application/cap+xml' } });
    expect(none.statusCode).toBe(401);
    const forged = await post(fixture('heavy-rain-alert.xml'), { token: `zct_${'A'.repeat(43)}` });
    expect(forged.statusCode).toBe(401);
    expect(json(forged).code).toBe('AUTH_REQUIRED');
  });

  it('needs an account at city level: a town editor’s token may not broadcast', async () => {
    const town = await t.addUser({ username: 'chengguan-editor', role: 'editor', zoneId: 'chengguan' });
    const res = await post(fixture('heavy-rain-alert.xml'), { token: await tokenOf(town) });
    expect(res.statusCode).toBe(403);
    expect(json(res).code).toBe('FORBIDDEN_ROLE');
  });

  it('stops working when revoked or when its account is disabled', async () => {
    const other = await tokenOf(editor, 'second feed');
    const [first] = t.app.store.read().apiTokens.filter((x) => x.userId === editor.user.id);
    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/tokens/${first?.id}`, headers: { cookie: editor.cookie } });
    expect(revoke.statusCode).toBe(204);
    const revoked = await post(fixture('heavy-rain-alert.xml'));
    expect(revoked.statusCode).toBe(401);
    expect(json(revoked).code).toBe('AUTH_REQUIRED');

    await t.api('PATCH', `/api/users/${editor.user.id}`, { disabled: true });
    const disabled = await post(fixture('heavy-rain-alert.xml'), { token: other });
    expect(disabled.statusCode).toBe(403);
    expect(json(disabled).code).toBe('ACCOUNT_DISABLED');
    expect(t.app.store.read().alerts).toHaveLength(0);
  });

  it('is not checked against Origin, since it is no cookie a browser sends by itself', async () => {
    const res = await post(fixture('heavy-rain-alert.xml'), { headers: { origin: 'https://feed.example', host: 'zonecast.example' } });
    expect(res.statusCode, res.body).toBe(201);
  });
});
