import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_TO_SERVER_EVENTS,
  ROLES,
  type ClientToServerEvents,
  type ContentItem,
  type ContentRecord,
  type ContentStatus,
  type Role,
  type ServerToClientEvents,
  type Zone,
} from '../../content/index.js';
import { hashApiToken } from '../../server/plugins/auth.js';
import { hashToken } from '../../server/services/realtime.js';
import { TEST_PASSWORD, buildTestApp, type TestApp, type TestUser } from '../helpers/app.js';

/**
 * The authorization matrix: every registered route and every client-to-server socket event,
 * called by an anonymous client and by each role, on something in the caller's own subtree and
 * on something outside it, against the status the matrix expects. A route or event that is
 * not in the matrix fails the test, so nothing new ships without a decision on who may call it.
 */

type Caller = 'anon' | Role;
type Scope = 'own' | 'other';
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface Req {
  readonly method: Method;
  readonly url: string;
  readonly payload?: object | string;
  /** Headers besides the credential, e.g. the content type of an XML body. */
  readonly headers?: Record<string, string>;
  /** Call as this account instead of the caller's own (a fresh one of the same role). */
  readonly as?: TestUser;
  readonly multipart?: Buffer;
}
interface Ctx {
  readonly zoneId: string;
  readonly caller: Caller;
  /** A new account with the caller's role and zone, for calls that change the account. */
  fresh(): Promise<TestUser>;
}
type Expect = Record<Caller, readonly [own: number, other: number]>;
interface Entry {
  readonly expect: Expect;
  build(ctx: Ctx): Promise<Req>;
}

const STAFF: readonly Role[] = ROLES;
/** Allowed for `roles` in their own subtree (`ok`), refused outside it; refused for other roles; 401 without a session. */
function scoped(ok: number, roles: readonly Role[]): Expect {
  return Object.fromEntries([['anon', [401, 401]], ...STAFF.map((r) => [r, roles.includes(r) ? [ok, 403] : [403, 403]])]) as unknown as Expect;
}
/** Allowed for `roles` wherever the target is (lists, which are filtered; zone-less things). */
function unscoped(ok: number, roles: readonly Role[]): Expect {
  return Object.fromEntries([['anon', [401, 401]], ...STAFF.map((r) => [r, roles.includes(r) ? [ok, ok] : [403, 403]])]) as unknown as Expect;
}
function everyone(status: number): Expect {
  return Object.fromEntries([['anon', [status, status]], ...STAFF.map((r) => [r, [status, status]])]) as unknown as Expect;
}
const ADMIN: Role[] = ['city-admin'];
const WRITERS: Role[] = ['city-admin', 'editor'];
const REVIEWERS: Role[] = ['city-admin', 'reviewer'];
const AUDITORS: Role[] = ['city-admin', 'inspector'];

let t: TestApp;
let seq = 0;
const next = () => ++seq;
const stamp = new Date().toISOString();
let mediaHash = '';

// Binzhou (city) with the towns Chengguan and Beiji; Xunyi, another city, with one town.
const ZONES: Zone[] = [
  { id: 'binzhou', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市', name: '' },
  { id: 'chengguan', tier: 'town', parentId: 'binzhou', divisionCode: '610482001000', shortName: '城关街道', name: '' },
  { id: 'beiji', tier: 'town', parentId: 'binzhou', divisionCode: '610482101000', shortName: '北极镇', name: '' },
  { id: 'xunyi', tier: 'city', parentId: null, divisionCode: '610429000000', shortName: '旬邑县', name: '' },
  { id: 'xunyi-town', tier: 'town', parentId: 'xunyi', divisionCode: '610429100000', shortName: '城关镇', name: '' },
];
/** Town roles act in Chengguan; the city admin in Binzhou, so its "other" is the other city. */
const CALLER_ZONE: Record<Role, string> = { 'city-admin': 'binzhou', editor: 'chengguan', reviewer: 'chengguan', inspector: 'chengguan' };
const targetZone = (caller: Caller, scope: Scope) => (scope === 'own' ? 'chengguan' : caller === 'city-admin' ? 'xunyi-town' : 'beiji');

async function insert(mutate: (d: Parameters<Parameters<TestApp['app']['store']['write']>[0]>[0]) => void): Promise<void> {
  await t.app.store.write(mutate);
}

/** A fresh village under a town, with a code the tier rules accept. */
async function village(townId: string): Promise<Zone> {
  const town = ZONES.find((z) => z.id === townId);
  if (!town) throw new Error(townId);
  const n = next();
  const zone: Zone = { id: `v${n}`, tier: 'village', parentId: townId, divisionCode: `${town.divisionCode.slice(0, 9)}${String(n).padStart(3, '0')}`, shortName: `村${n}`, name: '' };
  await insert((d) => void d.zones.push(zone));
  return zone;
}

const screenInput = (zoneId: string) => ({ zoneId, name: `屏${next()}`, width: 960, height: 320, pixelPitchMm: 4, viewingDistanceM: 6, openingHours: [], layoutId: null });
async function screen(zoneId: string): Promise<string> {
  const id = `scr${next()}`;
  await insert((d) => void d.screens.push({ ...screenInput(zoneId), id, tokenHash: hashToken(randomBytes(24).toString('hex')), createdAt: stamp, updatedAt: stamp }));
  return id;
}

const textInput = (zoneId: string) => ({ kind: 'text' as const, zoneId, title: `文字${next()}`, validFrom: null, validTo: null, durationS: null, body: '通知', align: 'left' as const });
async function content(zoneId: string, status: ContentStatus): Promise<string> {
  const id = `c${next()}`;
  const version: ContentItem = { ...textInput(zoneId), id, createdAt: stamp, updatedAt: stamp };
  const record: ContentRecord = {
    ...version,
    status,
    published: status === 'published' ? version : null,
    review: { createdBy: 'u-someone-else', updatedBy: 'u-someone-else', submittedBy: status === 'submitted' ? 'u-someone-else' : null, submittedAt: null, reviewedBy: null, reviewedAt: null, returnReason: null },
  };
  await insert((d) => void d.content.push(record));
  return id;
}

const layoutInput = (zoneId: string) => ({ zoneId, name: `布局${next()}`, width: 960, height: 320, background: '#000000', regions: [] });
async function layout(zoneId: string): Promise<string> {
  const id = `lay${next()}`;
  await insert((d) => void d.layouts.push({ ...layoutInput(zoneId), id, createdAt: stamp, updatedAt: stamp }));
  return id;
}
const playlistInput = (zoneId: string) => ({ zoneId, name: `列表${next()}`, mode: 'fixed' as const, entries: [], rule: null, defaultDurationS: 10, scheduleId: null });
async function playlist(zoneId: string): Promise<string> {
  const id = `pl${next()}`;
  await insert((d) => void d.playlists.push({ ...playlistInput(zoneId), id, createdAt: stamp, updatedAt: stamp }));
  return id;
}
const scheduleInput = (zoneId: string) => ({ zoneId, name: `排期${next()}`, validFrom: null, validTo: null, dayparts: [], priority: 0, weight: 1 });
async function schedule(zoneId: string): Promise<string> {
  const id = `sch${next()}`;
  await insert((d) => void d.schedules.push({ ...scheduleInput(zoneId), id, createdAt: stamp, updatedAt: stamp }));
  return id;
}
async function account(zoneId: string): Promise<TestUser> {
  return t.addUser({ username: `user${next()}`, role: 'editor', zoneId });
}
/** An API token of a fresh editor bound to `zoneId`. */
async function apiToken(zoneId: string): Promise<string> {
  const owner = await account(zoneId);
  const id = `tok${next()}`;
  await insert((d) => void d.apiTokens.push({ id, name: 'CAP', userId: owner.user.id, tokenHash: hashApiToken(randomBytes(16).toString('hex')), createdAt: stamp, lastUsedAt: null, revokedAt: null }));
  return id;
}
const alertInput = (zoneId: string) => ({ severity: 'moderate' as const, title: `预警${next()}`, text: '请注意防范', mediaHash: null, targetZoneIds: [zoneId], ttlMinutes: 60 });
const SYSTEM = { kind: 'system' as const, userId: null, username: null };
/** An active alert aimed at `zoneId`, sent by the system (as a CAP feed would). */
async function alert(zoneId: string): Promise<string> {
  return (await t.app.alerts.create(alertInput(zoneId), { actor: SYSTEM, source: 'composer', capRef: null })).id;
}
/** A CAP 1.2 Alert for the zone's division code, new each time. */
function capAlert(zoneId: string): string {
  const zone = ZONES.find((z) => z.id === zoneId);
  if (!zone) throw new Error(zoneId);
  return `<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>matrix-${next()}</identifier><sender>matrix</sender><sent>2026-07-12T08:30:00+08:00</sent>
<status>Actual</status><msgType>Alert</msgType><scope>Public</scope><info><language>zh-CN</language><event>暴雨</event><urgency>Expected</urgency><severity>Severe</severity>
<certainty>Likely</certainty><headline>暴雨橙色预警</headline><area><areaDesc>${zone.shortName}</areaDesc><geocode><valueName>GB/T 2260</valueName><value>${zone.divisionCode}</value></geocode></area></info></alert>`;
}
async function pairingCode(): Promise<string> {
  return (await t.app.pairing.open(randomBytes(24).toString('base64url'), null)).pairing.code;
}

/** POST routes that only compute an answer (nothing is stored, so nothing is audited). */
const READ_ONLY_POSTS = new Set(['POST /api/preview']);

const ROUTES: Record<string, Entry> = {
  'GET /api/health': { expect: everyone(200), build: async () => ({ method: 'GET', url: '/api/health' }) },
  'POST /api/auth/login': {
    expect: everyone(200),
    build: async () => ({ method: 'POST', url: '/api/auth/login', payload: { username: (await account('chengguan')).user.username, password: TEST_PASSWORD } }),
  },
  'POST /api/auth/logout': { expect: unscoped(204, STAFF), build: async () => ({ method: 'POST', url: '/api/auth/logout' }) },
  'GET /api/auth/me': { expect: unscoped(200, STAFF), build: async () => ({ method: 'GET', url: '/api/auth/me' }) },
  'POST /api/auth/password': {
    expect: unscoped(204, STAFF),
    build: async (c) => ({ method: 'POST', url: '/api/auth/password', payload: { current: TEST_PASSWORD, next: 'another-long-passphrase' }, as: c.caller === 'anon' ? undefined : await c.fresh() }),
  },

  'GET /api/users/names': { expect: unscoped(200, STAFF), build: async () => ({ method: 'GET', url: '/api/users/names' }) },
  'GET /api/users': { expect: unscoped(200, ADMIN), build: async () => ({ method: 'GET', url: '/api/users' }) },
  'POST /api/users': {
    expect: scoped(201, ADMIN),
    build: async (c) => ({ method: 'POST', url: '/api/users', payload: { username: `new${next()}`, displayName: '新用户', role: 'editor', zoneId: c.zoneId, disabled: false, password: 'a-long-enough-pass' } }),
  },
  'PATCH /api/users/:id': { expect: scoped(200, ADMIN), build: async (c) => ({ method: 'PATCH', url: `/api/users/${(await account(c.zoneId)).user.id}`, payload: { displayName: '改名' } }) },
  'POST /api/users/:id/password': {
    expect: scoped(204, ADMIN),
    build: async (c) => ({ method: 'POST', url: `/api/users/${(await account(c.zoneId)).user.id}/password`, payload: { password: 'reset-to-this-one' } }),
  },

  'GET /api/tokens': { expect: unscoped(200, STAFF), build: async () => ({ method: 'GET', url: '/api/tokens' }) },
  // Anyone makes tokens for themselves; a token acts as its account, so it needs no scope of its own.
  'POST /api/tokens': { expect: unscoped(201, STAFF), build: async () => ({ method: 'POST', url: '/api/tokens', payload: { name: 'CAP 推送' } }) },
  // Another account's token: only an admin who manages that account may revoke it (one's own: test/server/cap.test.ts).
  'DELETE /api/tokens/:id': { expect: scoped(204, ADMIN), build: async (c) => ({ method: 'DELETE', url: `/api/tokens/${await apiToken(c.zoneId)}` }) },

  'GET /api/zones': { expect: unscoped(200, STAFF), build: async () => ({ method: 'GET', url: '/api/zones' }) },
  'GET /api/zones/:id': { expect: scoped(200, STAFF), build: async (c) => ({ method: 'GET', url: `/api/zones/${c.zoneId}` }) },
  'POST /api/zones': {
    expect: scoped(201, ADMIN),
    build: async (c) => {
      const town = ZONES.find((z) => z.id === c.zoneId);
      const n = next();
      return { method: 'POST', url: '/api/zones', payload: { tier: 'village', parentId: c.zoneId, divisionCode: `${town?.divisionCode.slice(0, 9)}${String(n).padStart(3, '0')}`, shortName: `新村${n}` } };
    },
  },
  'PUT /api/zones/:id': {
    expect: scoped(200, ADMIN),
    build: async (c) => {
      const { id, name: _n, ...input } = await village(c.zoneId);
      return { method: 'PUT', url: `/api/zones/${id}`, payload: { ...input, shortName: '改名村' } };
    },
  },
  'DELETE /api/zones/:id': { expect: scoped(204, ADMIN), build: async (c) => ({ method: 'DELETE', url: `/api/zones/${(await village(c.zoneId)).id}` }) },

  'GET /api/screens': { expect: unscoped(200, STAFF), build: async () => ({ method: 'GET', url: '/api/screens' }) },
  'GET /api/screens/:id': { expect: scoped(200, STAFF), build: async (c) => ({ method: 'GET', url: `/api/screens/${await screen(c.zoneId)}` }) },
  'POST /api/screens': { expect: scoped(201, ADMIN), build: async (c) => ({ method: 'POST', url: '/api/screens', payload: screenInput(c.zoneId) }) },
  'PUT /api/screens/:id': { expect: scoped(200, WRITERS), build: async (c) => ({ method: 'PUT', url: `/api/screens/${await screen(c.zoneId)}`, payload: screenInput(c.zoneId) }) },
  'DELETE /api/screens/:id': { expect: scoped(204, ADMIN), build: async (c) => ({ method: 'DELETE', url: `/api/screens/${await screen(c.zoneId)}` }) },
  'POST /api/screens/:id/token': { expect: scoped(200, ADMIN), build: async (c) => ({ method: 'POST', url: `/api/screens/${await screen(c.zoneId)}/token` }) },
  'POST /api/screens/:id/revoke': { expect: scoped(204, ADMIN), build: async (c) => ({ method: 'POST', url: `/api/screens/${await screen(c.zoneId)}/revoke` }) },
  'GET /api/screens/:id/manifest': { expect: scoped(200, STAFF), build: async (c) => ({ method: 'GET', url: `/api/screens/${await screen(c.zoneId)}/manifest` }) },
  'GET /api/screens/:id/reports': { expect: scoped(200, STAFF), build: async (c) => ({ method: 'GET', url: `/api/screens/${await screen(c.zoneId)}/reports` }) },
  'POST /api/screens/:id/commands': {
    expect: scoped(200, WRITERS),
    build: async (c) => ({ method: 'POST', url: `/api/screens/${await screen(c.zoneId)}/commands`, payload: { command: 'identify' } }),
  },
  'GET /api/screens/:id/explain': { expect: scoped(200, STAFF), build: async (c) => ({ method: 'GET', url: `/api/screens/${await screen(c.zoneId)}/explain` }) },
  'GET /api/screens/:id/timeline': { expect: scoped(200, STAFF), build: async (c) => ({ method: 'GET', url: `/api/screens/${await screen(c.zoneId)}/timeline` }) },
  'POST /api/preview': {
    expect: scoped(200, STAFF),
    build: async (c) => ({ method: 'POST', url: '/api/preview', payload: { screen: { zoneId: c.zoneId, width: 320, height: 160, pixelPitchMm: 4, viewingDistanceM: 8 }, content: textInput(c.zoneId) } }),
  },
  'GET /api/pairings': { expect: unscoped(200, ADMIN), build: async () => ({ method: 'GET', url: '/api/pairings' }) },
  'POST /api/pairing/claim': {
    expect: scoped(201, ADMIN),
    build: async (c) => ({ method: 'POST', url: '/api/pairing/claim', payload: { code: await pairingCode(), screen: screenInput(c.zoneId) } }),
  },
  'GET /api/player/manifest': { expect: everyone(401), build: async () => ({ method: 'GET', url: '/api/player/manifest' }) },

  'GET /api/content': { expect: unscoped(200, STAFF), build: async () => ({ method: 'GET', url: '/api/content' }) },
  'GET /api/content/:id': { expect: scoped(200, STAFF), build: async (c) => ({ method: 'GET', url: `/api/content/${await content(c.zoneId, 'draft')}` }) },
  'POST /api/content': { expect: scoped(201, WRITERS), build: async (c) => ({ method: 'POST', url: '/api/content', payload: textInput(c.zoneId) }) },
  'PUT /api/content/:id': { expect: scoped(200, WRITERS), build: async (c) => ({ method: 'PUT', url: `/api/content/${await content(c.zoneId, 'draft')}`, payload: textInput(c.zoneId) }) },
  'DELETE /api/content/:id': { expect: scoped(204, WRITERS), build: async (c) => ({ method: 'DELETE', url: `/api/content/${await content(c.zoneId, 'draft')}` }) },
  'POST /api/content/:id/submit': { expect: scoped(200, WRITERS), build: async (c) => ({ method: 'POST', url: `/api/content/${await content(c.zoneId, 'draft')}/submit` }) },
  'POST /api/content/:id/recall': { expect: scoped(200, WRITERS), build: async (c) => ({ method: 'POST', url: `/api/content/${await content(c.zoneId, 'submitted')}/recall` }) },
  'POST /api/content/:id/approve': { expect: scoped(200, REVIEWERS), build: async (c) => ({ method: 'POST', url: `/api/content/${await content(c.zoneId, 'submitted')}/approve` }) },
  'POST /api/content/:id/return': {
    expect: scoped(200, REVIEWERS),
    build: async (c) => ({ method: 'POST', url: `/api/content/${await content(c.zoneId, 'submitted')}/return`, payload: { reason: '请补充联系电话' } }),
  },
  'POST /api/content/:id/withdraw': { expect: scoped(200, REVIEWERS), build: async (c) => ({ method: 'POST', url: `/api/content/${await content(c.zoneId, 'published')}/withdraw` }) },

  'GET /api/layouts': { expect: unscoped(200, STAFF), build: async () => ({ method: 'GET', url: '/api/layouts' }) },
  'GET /api/layouts/:id': { expect: scoped(200, STAFF), build: async (c) => ({ method: 'GET', url: `/api/layouts/${await layout(c.zoneId)}` }) },
  'POST /api/layouts': { expect: scoped(201, WRITERS), build: async (c) => ({ method: 'POST', url: '/api/layouts', payload: layoutInput(c.zoneId) }) },
  'PUT /api/layouts/:id': { expect: scoped(200, WRITERS), build: async (c) => ({ method: 'PUT', url: `/api/layouts/${await layout(c.zoneId)}`, payload: layoutInput(c.zoneId) }) },
  'DELETE /api/layouts/:id': { expect: scoped(204, WRITERS), build: async (c) => ({ method: 'DELETE', url: `/api/layouts/${await layout(c.zoneId)}` }) },
  'GET /api/playlists': { expect: unscoped(200, STAFF), build: async () => ({ method: 'GET', url: '/api/playlists' }) },
  'GET /api/playlists/:id': { expect: scoped(200, STAFF), build: async (c) => ({ method: 'GET', url: `/api/playlists/${await playlist(c.zoneId)}` }) },
  'POST /api/playlists': { expect: scoped(201, WRITERS), build: async (c) => ({ method: 'POST', url: '/api/playlists', payload: playlistInput(c.zoneId) }) },
  'PUT /api/playlists/:id': { expect: scoped(200, WRITERS), build: async (c) => ({ method: 'PUT', url: `/api/playlists/${await playlist(c.zoneId)}`, payload: playlistInput(c.zoneId) }) },
  'DELETE /api/playlists/:id': { expect: scoped(204, WRITERS), build: async (c) => ({ method: 'DELETE', url: `/api/playlists/${await playlist(c.zoneId)}` }) },
  'GET /api/schedules': { expect: unscoped(200, STAFF), build: async () => ({ method: 'GET', url: '/api/schedules' }) },
  'GET /api/schedules/:id': { expect: scoped(200, STAFF), build: async (c) => ({ method: 'GET', url: `/api/schedules/${await schedule(c.zoneId)}` }) },
  'POST /api/schedules': { expect: scoped(201, WRITERS), build: async (c) => ({ method: 'POST', url: '/api/schedules', payload: scheduleInput(c.zoneId) }) },
  'PUT /api/schedules/:id': { expect: scoped(200, WRITERS), build: async (c) => ({ method: 'PUT', url: `/api/schedules/${await schedule(c.zoneId)}`, payload: scheduleInput(c.zoneId) }) },
  'DELETE /api/schedules/:id': { expect: scoped(204, WRITERS), build: async (c) => ({ method: 'DELETE', url: `/api/schedules/${await schedule(c.zoneId)}` }) },

  'POST /api/media': {
    // Media has no zone: it is stored once by hash and referenced from content, which is scoped.
    expect: unscoped(201, WRITERS),
    build: async () => ({ method: 'POST', url: '/api/media', multipart: await uniquePng() }),
  },
  'GET /api/media': { expect: unscoped(200, STAFF), build: async () => ({ method: 'GET', url: '/api/media' }) },
  'GET /api/media/:hash': { expect: unscoped(200, STAFF), build: async () => ({ method: 'GET', url: `/api/media/${mediaHash}` }) },
  // Players fetch media by hash URL without credentials; the hash is the capability.
  'GET /media/:hash/:file': { expect: everyone(200), build: async () => ({ method: 'GET', url: `/media/${mediaHash}/original.png` }) },

  'GET /api/audit': { expect: unscoped(200, AUDITORS), build: async () => ({ method: 'GET', url: '/api/audit' }) },
  'GET /api/audit/verify': { expect: unscoped(200, AUDITORS), build: async () => ({ method: 'GET', url: '/api/audit/verify' }) },

  // Urgent alerts need a city-level account: the town editor is refused by role (FORBIDDEN_ROLE),
  // the Binzhou admin by scope for the other city's town (a city-level editor: alerts.test.ts).
  'POST /api/alerts': { expect: scoped(201, ADMIN), build: async (c) => ({ method: 'POST', url: '/api/alerts', payload: alertInput(c.zoneId) }) },
  'GET /api/alerts': { expect: unscoped(200, STAFF), build: async () => ({ method: 'GET', url: '/api/alerts' }) },
  'GET /api/alerts/:id': { expect: scoped(200, STAFF), build: async (c) => ({ method: 'GET', url: `/api/alerts/${await alert(c.zoneId)}` }) },
  'GET /api/alerts/:id/deliveries': { expect: scoped(200, STAFF), build: async (c) => ({ method: 'GET', url: `/api/alerts/${await alert(c.zoneId)}/deliveries` }) },
  'POST /api/alerts/:id/amend': {
    expect: scoped(200, ADMIN),
    build: async (c) => ({ method: 'POST', url: `/api/alerts/${await alert(c.zoneId)}/amend`, payload: { ...alertInput(c.zoneId), severity: 'severe' } }),
  },
  // CAP ingest, as alert:send: city-level accounts only (a city-level editor's token: cap.test.ts).
  'POST /api/cap': {
    expect: scoped(201, ADMIN),
    build: async (c) => ({ method: 'POST', url: '/api/cap', payload: capAlert(c.zoneId), headers: { 'content-type': 'application/cap+xml' } }),
  },
  'POST /api/alerts/:id/clear': { expect: scoped(200, ADMIN), build: async (c) => ({ method: 'POST', url: `/api/alerts/${await alert(c.zoneId)}/clear` }) },

  'POST /api/_bench/broadcast': { expect: unscoped(200, ADMIN), build: async (c) => ({ method: 'POST', url: '/api/_bench/broadcast', payload: { zoneId: c.zoneId, seq: 1, bytes: 10 } }) },
  'POST /api/_bench/emit-ack': {
    expect: unscoped(200, ADMIN),
    build: async (c) => ({
      method: 'POST',
      url: '/api/_bench/emit-ack',
      payload: {
        zoneId: c.zoneId,
        payload: { alertId: 'alr-bench', severity: 'extreme', presentation: 'takeover', title: '测试', text: '', image: null, issuedAt: 0, expiresAt: 1, revision: 1 },
        timeoutMs: 1000,
      },
    }),
  },
  'POST /api/_bench/screens': {
    expect: scoped(201, ADMIN),
    build: async (c) => {
      const { name: _name, ...screen } = screenInput(c.zoneId);
      return { method: 'POST', url: '/api/_bench/screens', payload: { screen, namePrefix: '屏', first: 1, count: 2 } };
    },
  },
  'GET /api/_bench/cpu': { expect: unscoped(200, ADMIN), build: async () => ({ method: 'GET', url: '/api/_bench/cpu' }) },
  'GET /api/_bench/heap': { expect: unscoped(200, ADMIN), build: async () => ({ method: 'GET', url: '/api/_bench/heap' }) },
  'GET /api/_bench/trace': { expect: unscoped(200, ADMIN), build: async () => ({ method: 'GET', url: '/api/_bench/trace?since=0' }) },
  'GET /': { expect: everyone(302), build: async () => ({ method: 'GET', url: '/' }) },
};

/** Routes of the built browser apps, served as static files to anyone. */
const STATIC = /^\/(player|composer)\//;

async function uniquePng(): Promise<Buffer> {
  const n = next();
  return sharp({ create: { width: 16, height: 16, channels: 3, background: { r: n % 256, g: (n >> 8) % 256, b: 77 } } })
    .png()
    .toBuffer();
}

function multipartBody(file: Buffer): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----zc${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { payload: Buffer.concat([head, file, tail]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const callers = new Map<Role, TestUser>();

beforeAll(async () => {
  t = await buildTestApp({ env: { ZONECAST_BENCH_ROUTES: '1' } });
  await insert((d) => void d.zones.push(...ZONES));
  for (const role of STAFF) callers.set(role, await t.addUser({ username: `the-${role}`, role, zoneId: CALLER_ZONE[role] }));
  const up = multipartBody(await uniquePng());
  const res = await t.app.inject({ method: 'POST', url: '/api/media', payload: up.payload, headers: { ...up.headers, cookie: t.admin.cookie } });
  mediaHash = (JSON.parse(res.body) as { media: { hash: string } }).media.hash;
});
afterAll(async () => t.close());

describe('the authorization matrix', () => {
  it('covers every registered route, and nothing that is not registered', () => {
    const registered = t.app.routeAuths.filter((r) => r.method !== 'HEAD' && !STATIC.test(r.url)).map((r) => `${r.method} ${r.url}`);
    const missing = registered.filter((k) => !(k in ROUTES));
    expect(missing, 'routes missing from the authorization matrix').toEqual([]);
    expect(Object.keys(ROUTES).filter((k) => !registered.includes(k)), 'matrix entries for routes that do not exist').toEqual([]);
  });

  it('declares static app routes public', () => {
    for (const r of t.app.routeAuths.filter((x) => STATIC.test(x.url))) expect([undefined, 'public']).toContain(r.auth);
  });

  for (const [key, entry] of Object.entries(ROUTES)) it(`${key}`, () => checkEntry(key, entry, 'session'));
});

/**
 * Calls one matrix entry as every caller on both scopes and compares the statuses with the
 * matrix; `via` says whether staff callers present their session cookie or an API token.
 */
async function checkEntry(key: string, entry: Entry, via: 'session' | 'token'): Promise<void> {
  const rows: { cell: string; status: number; expected: number; body: string }[] = [];
  for (const caller of ['anon', ...STAFF] as Caller[]) {
    for (const scope of ['own', 'other'] as Scope[]) {
      const zoneId = targetZone(caller, scope);
      const req = await entry.build({
        zoneId,
        caller,
        fresh: () => t.addUser({ username: `fresh${next()}`, role: caller as Role, zoneId: CALLER_ZONE[caller as Role] }),
      });
      const callerId = caller === 'anon' ? undefined : (callers.get(caller) as TestUser).user.id;
      // A new session for every call, so that logging out or changing a password does not leak into the next one.
      let credential: Record<string, string> = {};
      if (req.as) credential = { cookie: req.as.cookie };
      else if (callerId !== undefined && via === 'token') credential = { authorization: `Bearer ${await callerToken(callerId)}` };
      else if (callerId !== undefined) credential = { cookie: await t.sessionCookie(callerId) };
      const body = req.multipart ? multipartBody(req.multipart) : null;
      const seqBefore = t.app.store.read().audit.head?.seq ?? 0;
      const res = await t.app.inject({
        method: req.method,
        url: req.url,
        payload: body?.payload ?? req.payload,
        headers: { ...(req.headers ?? {}), ...(body?.headers ?? {}), ...credential },
      });
      // Every change that succeeds leaves an audit entry (the bench routes and previews change nothing).
      if (req.method !== 'GET' && res.statusCode < 300 && !key.includes(' /api/_bench/') && !READ_ONLY_POSTS.has(key)) {
        expect(t.app.store.read().audit.head?.seq ?? 0, `${key} by ${caller} left no audit entry`).toBeGreaterThan(seqBefore);
      }
      rows.push({ cell: `${caller}/${scope}`, status: res.statusCode, expected: entry.expect[caller][scope === 'own' ? 0 : 1], body: res.body.slice(0, 200) });
      if (res.statusCode >= 400) {
        const err = JSON.parse(res.body) as { code: string; message: { zh: string; en: string } };
        expect(err.message.zh.length, `${caller}/${scope} ${res.body}`).toBeGreaterThan(0);
        if (res.statusCode === 403) expect(['FORBIDDEN_ROLE', 'FORBIDDEN_SCOPE']).toContain(err.code);
      }
    }
  }
  const wrong = rows.filter((r) => r.status !== r.expected).map((r) => `${r.cell} got ${r.status}: ${r.body}`);
  expect(
    rows.map((r) => `${r.cell}: ${r.status}`),
    wrong.join('\n'),
  ).toEqual(rows.map((r) => `${r.cell}: ${r.expected}`));
}

const tokens = new Map<string, string>();
/** An API token of the account, made through the API with one of its sessions. */
async function callerToken(userId: string): Promise<string> {
  const known = tokens.get(userId);
  if (known) return known;
  const res = await t.app.inject({ method: 'POST', url: '/api/tokens', payload: { name: 'matrix' }, headers: { cookie: await t.sessionCookie(userId) } });
  const { secret } = JSON.parse(res.body) as { secret: string };
  tokens.set(userId, secret);
  return secret;
}

describe('the authorization matrix with API tokens', () => {
  // A token acts exactly as its account: the same rows of the matrix, called with Bearer tokens.
  const SAMPLE = ['GET /api/users', 'PATCH /api/users/:id', 'POST /api/zones', 'POST /api/content', 'POST /api/content/:id/approve', 'GET /api/audit', 'POST /api/pairing/claim', 'DELETE /api/tokens/:id', 'POST /api/cap'];
  for (const key of SAMPLE) {
    it(`${key}`, async () => {
      const entry = ROUTES[key];
      if (!entry) throw new Error(`${key} is not in the matrix`);
      await checkEntry(key, entry, 'token');
    });
  }
});

type Kind = 'screen' | 'pairing' | Role;
type AckResult = { ok: true } | { ok: false; code: string };
const SOCKET_EXPECT: Record<keyof ClientToServerEvents, Record<Kind, readonly [own: string, other: string]>> = {
  'screen:heartbeat': socketOnly('screen'),
  'manifest:fetch': socketOnly('screen'),
  'screen:report': socketOnly('screen'),
  'pairing:renew': socketOnly('pairing'),
  'screens:watch': {
    screen: ['FORBIDDEN_ROLE', 'FORBIDDEN_ROLE'],
    pairing: ['FORBIDDEN_ROLE', 'FORBIDDEN_ROLE'],
    'city-admin': ['ok', 'FORBIDDEN_SCOPE'],
    editor: ['ok', 'FORBIDDEN_SCOPE'],
    reviewer: ['ok', 'FORBIDDEN_SCOPE'],
    inspector: ['ok', 'FORBIDDEN_SCOPE'],
  },
  // A screen acknowledges only alerts aimed at it: the other town's alert is NOT_FOUND for it.
  'alert:ack': { ...socketOnly('screen'), screen: ['ok', 'NOT_FOUND'] },
  'alerts:watch': {
    screen: ['FORBIDDEN_ROLE', 'FORBIDDEN_ROLE'],
    pairing: ['FORBIDDEN_ROLE', 'FORBIDDEN_ROLE'],
    'city-admin': ['ok', 'FORBIDDEN_SCOPE'],
    editor: ['ok', 'FORBIDDEN_SCOPE'],
    reviewer: ['ok', 'FORBIDDEN_SCOPE'],
    inspector: ['ok', 'FORBIDDEN_SCOPE'],
  },
};
function socketOnly(kind: 'screen' | 'pairing'): Record<Kind, readonly [string, string]> {
  const all: Kind[] = ['screen', 'pairing', ...STAFF];
  return Object.fromEntries(all.map((k) => [k, k === kind ? ['ok', 'ok'] : ['FORBIDDEN_ROLE', 'FORBIDDEN_ROLE']])) as unknown as Record<Kind, readonly [string, string]>;
}
const EVENT_ARGS: Record<keyof ClientToServerEvents, (zoneId: string) => unknown[]> = {
  'screen:heartbeat': () => [{ manifestVersion: null, clientTime: Date.now() }],
  'manifest:fetch': () => [],
  'screen:report': () => [{ kind: 'assets-failed', manifestVersion: 'x', failures: [] }],
  'pairing:renew': () => [],
  'screens:watch': (zoneId) => [{ zoneId }],
  'alert:ack': (zoneId) => [{ alertId: socketAlerts.get(zoneId) ?? 'none', revision: 1, stage: 'received', at: Date.now() }],
  'alerts:watch': (zoneId) => [{ alertId: socketAlerts.get(zoneId) ?? 'none' }],
};
/** One alert per target zone of the socket matrix, made before it runs. */
const socketAlerts = new Map<string, string>();

describe('the socket authorization matrix', () => {
  let url = '';
  const sockets: Socket[] = [];
  beforeAll(async () => {
    url = await t.listen();
    for (const zoneId of ['chengguan', 'beiji', 'xunyi-town']) socketAlerts.set(zoneId, await alert(zoneId));
  });
  afterAll(() => {
    for (const s of sockets) s.disconnect();
  });

  async function connect(kind: Kind): Promise<Socket<ServerToClientEvents, ClientToServerEvents>> {
    let auth: object = {};
    let cookie: string | undefined;
    if (kind === 'screen') {
      const token = randomBytes(24).toString('base64url');
      const id = await screen('chengguan');
      await insert((d) => {
        const s = d.screens.find((x) => x.id === id);
        if (s) s.tokenHash = hashToken(token);
      });
      auth = { token };
    } else if (kind === 'pairing') {
      auth = { pairingSecret: randomBytes(24).toString('base64url') };
    } else {
      cookie = await t.sessionCookie((callers.get(kind) as TestUser).user.id);
    }
    const s: Socket<ServerToClientEvents, ClientToServerEvents> = ioClient(url, {
      auth,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: cookie ? { cookie } : {},
    });
    sockets.push(s);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    return s;
  }

  it('covers every client-to-server event in content/', () => {
    expect(CLIENT_TO_SERVER_EVENTS.filter((e) => !(e in SOCKET_EXPECT))).toEqual([]);
    expect(Object.keys(SOCKET_EXPECT).sort()).toEqual([...CLIENT_TO_SERVER_EVENTS].sort());
  });

  it('refuses a socket without a token, a pairing secret or a session', async () => {
    const s = ioClient(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(s);
    const err = await new Promise<Error & { data?: { code: string } }>((resolve) => s.once('connect_error', resolve));
    expect(err.data?.code).toBe('AUTH_REQUIRED');
  });

  for (const event of CLIENT_TO_SERVER_EVENTS) {
    it(`${event}`, async () => {
      const got: string[] = [];
      const want: string[] = [];
      for (const kind of ['screen', 'pairing', ...STAFF] as Kind[]) {
        const s = await connect(kind);
        for (const scope of ['own', 'other'] as Scope[]) {
          const zoneId = targetZone(kind === 'city-admin' ? 'city-admin' : 'editor', scope);
          const res = (await (s.timeout(5000).emitWithAck as (e: string, ...a: unknown[]) => Promise<AckResult>)(event, ...(EVENT_ARGS[event]?.(zoneId) ?? [])));
          got.push(`${kind}/${scope}: ${res.ok ? 'ok' : res.code}`);
          want.push(`${kind}/${scope}: ${SOCKET_EXPECT[event]?.[kind][scope === 'own' ? 0 : 1]}`);
        }
        s.disconnect();
      }
      expect(got).toEqual(want);
    });
  }
});
