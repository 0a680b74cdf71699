import type { ContentRecord, ScreenInput, Zone } from '../../content/index.js';
import { addReviewer, publish, type Api, type Staff } from './api.js';
import { BENCH_SCREEN, notice, noticeBoard } from './fixture.js';
import type { FleetScreen } from './alert-protocol.js';
import { mapLimit } from './async.js';

/** One city with one town holding every screen; alerts go to the city, so they cover the town. */
export interface AlertFixture {
  readonly cityId: string;
  readonly townId: string;
  readonly screens: readonly FleetScreen[];
}

/** Screens per request to the bench's bulk route (POST /api/_bench/screens, at most 5,000). */
const SCREENS_PER_REQUEST = 1000;

/**
 * Creates the fixture as `admin`: through the public REST API the zones, a full-screen layout
 * whose playlist shows the zones' notices (so that each screen has an ordinary manifest, held on
 * the server as for a real screen) and four published notices; the `players` screens through the
 * bench's bulk route (ZONECAST_BENCH_ROUTES), which makes what POST /api/screens makes (fields,
 * device token, audit entry) a thousand at a time, in one store write each, where the API's one
 * write per screen would take minutes for 10,000. `concurrency` requests at a time.
 */
export async function seedAlertFixture(admin: Api, players: number, opts: { concurrency: number; progress?: (done: number) => void }): Promise<AlertFixture> {
  const city = await admin.post<Zone>('/api/zones', { tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市' });
  const town = await admin.post<Zone>('/api/zones', { tier: 'town', parentId: city.id, divisionCode: '610482100000', shortName: '北极镇' });
  const staff: Staff = { admin, reviewer: await addReviewer(admin, city.id) };
  const { layout } = await noticeBoard(admin, city.id);
  for (const [i, zone] of [city, city, town, town].entries()) {
    const item = await admin.post<ContentRecord>('/api/content', notice(zone.id, `${zone.shortName}公示公告 第${i + 1}号`));
    await publish(staff, item.id);
  }

  const screen: Omit<ScreenInput, 'id' | 'name'> = { zoneId: town.id, ...BENCH_SCREEN, openingHours: [], layoutId: layout.id };
  const chunks = Array.from({ length: Math.ceil(players / SCREENS_PER_REQUEST) }, (_, i) => ({ first: i * SCREENS_PER_REQUEST + 1, count: Math.min(SCREENS_PER_REQUEST, players - i * SCREENS_PER_REQUEST) }));
  let done = 0;
  const made = await mapLimit(chunks, opts.concurrency, async ({ first, count }) => {
    const res = await admin.post<{ screenId: string; token: string }[]>('/api/_bench/screens', { screen, namePrefix: '北极镇屏幕', first, count });
    done += res.length;
    opts.progress?.(done);
    return res;
  });
  return { cityId: city.id, townId: town.id, screens: made.flat() };
}
