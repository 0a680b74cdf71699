import type { ContentInput, ContentRecord, Layout, Playlist, Screen, Zone } from '../../content/index.js';
import { addReviewer, publish, type Api, type Staff } from './api.js';
import { mapLimit } from './async.js';

export type NoticeInput = Extract<ContentInput, { kind: 'notice' }>;
export type Town = 'A' | 'B';

/** A screen the bench created, with the device token it was issued. */
export interface BenchScreen {
  readonly screenId: string;
  readonly token: string;
  readonly town: Town;
}

/** A notice the bench edits to cause a change, with the input it was created from. */
export interface EditableNotice {
  readonly id: string;
  readonly input: NoticeInput;
}

/** One city, two towns, a shared layout and `players` screens split evenly across the towns. */
export interface Fixture {
  readonly cityId: string;
  readonly townIds: Readonly<Record<Town, string>>;
  /** Owned by the city: every screen shows it. */
  readonly cityNotice: EditableNotice;
  /** Owned by town A: only town A's screens show it. */
  readonly townNotice: EditableNotice;
  readonly screens: readonly BenchScreen[];
  /** Who edits (the admin) and who approves (a city reviewer): an edit reaches screens on approval. */
  readonly staff: Staff;
}

/** The city's full-screen notice layout: one region playing a rule playlist of notices from the zone and above. */
export async function noticeBoard(api: Api, cityId: string): Promise<{ playlist: Playlist; layout: Layout }> {
  const playlist = await api.post<Playlist>('/api/playlists', {
    name: '公示公告',
    zoneId: cityId,
    mode: 'rule',
    entries: [],
    rule: { kinds: ['notice'], scope: 'ancestors', limit: 50 },
    defaultDurationS: 10,
    scheduleId: null,
  });
  const layout = await api.post<Layout>('/api/layouts', {
    zoneId: cityId,
    name: '全屏公告',
    width: 1920,
    height: 1080,
    background: '#000000',
    regions: [{ id: 'main', name: '公告区', x: 0, y: 0, width: 1920, height: 1080, playlistId: playlist.id }],
  });
  return { playlist, layout };
}

/** How many notices each zone owns: a manifest of `3 × NOTICES_PER_ZONE` items, like a busy board. */
/** The size and siting of every bench screen: a full-HD LED wall at 2.5 mm, seen from 8 m, always open. */
export const BENCH_SCREEN = { width: 1920, height: 1080, pixelPitchMm: 2.5, viewingDistanceM: 8, openingHours: [] } as const;

const NOTICES_PER_ZONE = 4;

// About 150 characters of ordinary notice text, so that manifests have a realistic size.
const BODY =
  '根据《中华人民共和国政府信息公开条例》和市政府办公室关于推进基层政务公开标准化规范化工作的要求，现将有关事项公示如下。' +
  '公示期间，如对公示内容有异议，请以书面形式向本单位反映，并提供必要的证明材料。联系地址：政务服务中心一楼综合窗口。';

/** A published-to-be notice with a year's publicity period and ordinary-length text. */
export function notice(zoneId: string, title: string): NoticeInput {
  const now = Date.now();
  return {
    kind: 'notice',
    zoneId,
    title,
    validFrom: null,
    validTo: null,
    durationS: null,
    body: BODY,
    publicityStart: new Date(now - 86_400_000).toISOString(),
    publicityEnd: new Date(now + 365 * 86_400_000).toISOString(),
    contact: '0779-1234567',
  };
}

/** Creates the fixture through the public REST API as `admin`, the way staff would; notices are published through review. */
export async function seedFixture(admin: Api, players: number): Promise<Fixture> {
  const api = admin;
  const city = await api.post<Zone>('/api/zones', { tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市' });
  const staff: Staff = { admin, reviewer: await addReviewer(admin, city.id) };
  const townA = await api.post<Zone>('/api/zones', { tier: 'town', parentId: city.id, divisionCode: '610482100000', shortName: '北极镇' });
  const townB = await api.post<Zone>('/api/zones', { tier: 'town', parentId: city.id, divisionCode: '610482101000', shortName: '新民镇' });

  const { layout } = await noticeBoard(api, city.id);

  const created: EditableNotice[][] = [];
  for (const zone of [city, townA, townB]) {
    const mine: EditableNotice[] = [];
    for (let i = 1; i <= NOTICES_PER_ZONE; i++) {
      const input = notice(zone.id, `${zone.shortName}公示公告 第${i}号`);
      const item = await api.post<ContentRecord>('/api/content', input);
      await publish(staff, item.id);
      mine.push({ id: item.id, input });
    }
    created.push(mine);
  }

  // Concurrent creation lets the store group-commit; the order of screens does not matter.
  const screens = await mapLimit(Array.from({ length: players }, (_, i) => i), 16, async (i) => {
    const town: Town = i % 2 === 0 ? 'A' : 'B';
    const res = await api.post<{ screen: Screen; deviceToken: string }>('/api/screens', {
      zoneId: town === 'A' ? townA.id : townB.id,
      name: `${town === 'A' ? '北极镇' : '新民镇'}屏幕 ${String(i + 1).padStart(4, '0')}`,
      ...BENCH_SCREEN,
      layoutId: layout.id,
    });
    return { screenId: res.screen.id, token: res.deviceToken, town };
  });

  const pick = (i: number): EditableNotice => {
    const n = created[i]?.[0];
    if (!n) throw new Error('fixture: notice missing');
    return n;
  };
  return { cityId: city.id, townIds: { A: townA.id, B: townB.id }, cityNotice: pick(0), townNotice: pick(1), screens, staff };
}
