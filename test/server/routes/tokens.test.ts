import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiToken, Zone } from '../../../content/index.js';
import { buildTestApp, type TestApp, type TestUser } from '../../helpers/app.js';

const ZONES: Zone[] = [
  { id: 'binzhou', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市', name: '' },
  { id: 'chengguan', tier: 'town', parentId: 'binzhou', divisionCode: '610482001000', shortName: '城关街道', name: '' },
  { id: 'xunyi', tier: 'city', parentId: null, divisionCode: '610429000000', shortName: '旬邑县', name: '' },
];

let t: TestApp;
let editor: TestUser;
beforeEach(async () => {
  t = await buildTestApp();
  await t.app.store.write((d) => void d.zones.push(...ZONES));
  editor = await t.addUser({ username: 'binzhou-cap', role: 'editor', zoneId: 'binzhou' });
});
afterEach(async () => t.close());

async function create(as: TestUser, name = 'CAP 推送') {
  const res = await t.app.inject({ method: 'POST', url: '/api/tokens', payload: { name }, headers: { cookie: as.cookie } });
  expect(res.statusCode, res.body).toBe(201);
  return JSON.parse(res.body) as { token: ApiToken; secret: string };
}
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
const list = async (headers: Record<string, string>) => JSON.parse((await t.app.inject({ method: 'GET', url: '/api/tokens', headers })).body) as ApiToken[];

describe('API tokens', () => {
  it('shows the secret once and keeps only its SHA-256, audited without it', async () => {
    const { token, secret } = await create(editor);
    expect(secret).toMatch(/^zct_[A-Za-z0-9_-]{43}$/);
    expect(token).toMatchObject({ name: 'CAP 推送', userId: editor.user.id, lastUsedAt: null, revokedAt: null });
    expect(token).not.toHaveProperty('tokenHash');
    const stored = JSON.stringify(t.app.store.read());
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secret.slice(4));
    const [listed] = await list({ cookie: editor.cookie });
    expect(listed).toEqual(token);
    const { entries } = (await t.api('GET', '/api/audit?entity=api-token')) as { entries: { action: string; after: object }[] };
    expect(entries.map((e) => e.action)).toEqual(['api-token.create']);
    expect(entries[0]?.after).not.toHaveProperty('tokenHash');
  });

  it('acts as its account, without a cookie, and records when it was last used', async () => {
    const { token, secret } = await create(editor);
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(secret) });
    expect(me.statusCode).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ user: { id: editor.user.id, role: 'editor' }, cityLevel: true });
    expect(t.app.store.read().apiTokens.find((x) => x.id === token.id)?.lastUsedAt).not.toBeNull();
    // A malformed header is no credential at all.
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Basic ${secret}` } })).statusCode).toBe(401);
    // A session cookie, when present, is what counts (and is Origin-checked as always).
    const town = await t.addUser({ username: 'town-editor', role: 'editor', zoneId: 'chengguan' });
    const both = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { ...bearer(secret), cookie: town.cookie } });
    expect(JSON.parse(both.body)).toMatchObject({ user: { id: town.user.id } });
  });

  it('cannot be used to make more tokens', async () => {
    const { secret } = await create(editor);
    const res = await t.app.inject({ method: 'POST', url: '/api/tokens', payload: { name: 'persist' }, headers: bearer(secret) });
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body).code).toBe('API_TOKEN_SESSION_REQUIRED');
    expect(t.app.store.read().apiTokens).toHaveLength(1);
  });

  it('lists one’s own tokens; an admin also those of the accounts they manage', async () => {
    const mine = await create(editor);
    const colleague = await t.addUser({ username: 'colleague', role: 'reviewer', zoneId: 'chengguan' });
    const theirs = await create(colleague);
    const elsewhere = await t.addUser({ username: 'xunyi-editor', role: 'editor', zoneId: 'xunyi' });
    const foreign = await create(elsewhere);
    const admin = await t.addUser({ username: 'binzhou-admin', role: 'city-admin', zoneId: 'binzhou' });

    expect((await list({ cookie: editor.cookie })).map((x) => x.id)).toEqual([mine.token.id]);
    expect((await list({ cookie: admin.cookie })).map((x) => x.id).sort()).toEqual([mine.token.id, theirs.token.id].sort());
    expect((await list({ cookie: t.admin.cookie })).map((x) => x.id).sort()).toEqual([mine.token.id, theirs.token.id, foreign.token.id].sort());
  });

  it('is revoked by its owner or their admin, at once, and not by others', async () => {
    const { token, secret } = await create(editor);
    const colleague = await t.addUser({ username: 'colleague', role: 'editor', zoneId: 'binzhou' });
    const notYours = await t.app.inject({ method: 'DELETE', url: `/api/tokens/${token.id}`, headers: { cookie: colleague.cookie } });
    expect(notYours.statusCode).toBe(403);
    expect((await t.app.inject({ method: 'DELETE', url: '/api/tokens/tok-nope', headers: { cookie: editor.cookie } })).statusCode).toBe(404);

    // Revoked with the token itself: a leaked one can be put out of use by whoever holds it.
    expect((await t.app.inject({ method: 'DELETE', url: `/api/tokens/${token.id}`, headers: bearer(secret) })).statusCode).toBe(204);
    const after = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(secret) });
    expect(after.statusCode).toBe(401);
    expect(JSON.parse(after.body).code).toBe('AUTH_REQUIRED');
    const [listed] = await list({ cookie: editor.cookie });
    expect(listed?.revokedAt).not.toBeNull();
    // Revoking again changes nothing.
    const head = t.app.store.read().audit.head;
    expect((await t.app.inject({ method: 'DELETE', url: `/api/tokens/${token.id}`, headers: { cookie: editor.cookie } })).statusCode).toBe(204);
    expect(t.app.store.read().audit.head).toEqual(head);
  });

  it('stops working while its account is disabled', async () => {
    const { secret } = await create(editor);
    await t.api('PATCH', `/api/users/${editor.user.id}`, { disabled: true });
    const res = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(secret) });
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body).code).toBe('ACCOUNT_DISABLED');
    await t.api('PATCH', `/api/users/${editor.user.id}`, { disabled: false });
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(secret) })).statusCode).toBe(200);
  });

  it('is revoked when an admin resets its account’s password', async () => {
    const { secret } = await create(editor);
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(secret) })).statusCode).toBe(200);
    await t.api('POST', `/api/users/${editor.user.id}/password`, { password: 'reset-after-a-leak' });
    const res = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(secret) });
    expect(res.statusCode).toBe(401);
  });
});
