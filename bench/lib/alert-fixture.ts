import type { ContentRecord, Screen, Zone } from '../../content/index.js';
import { addReviewer, publish, type Api, type Staff } from './api.js';
import { notice, noticeBoard } from './fixture.js';
import type { FleetScreen } from './alert-protocol.js';
import { mapLimit } from './async.js';

/** One city with one town holding every screen; alerts go to the city, so they cover the town. */
export interface AlertFixture {
  readonly cityId: string;
  readonly townId: string;
  readonly screens: readonly FleetScreen[];
}

/**
 * Creates the fixture through the public REST API as `admin`: the zones, a full-screen layout
 * whose playlist shows the zones' notices (so that each screen has an ordinary manifest, held on
 * the server as for a real screen), four published notices, and `players` screens. Screens are
 * created `concurrency` at a time, so that the store group-commits them.
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

  let done = 0;
  const screens = await mapLimit(Array.from({ length: players }, (_, i) => i), opts.concurrency, async (i) => {
    const res = await admin.post<{ screen: Screen; deviceToken: string }>('/api/screens', {
      zoneId: town.id,
      name: `北极镇屏幕 ${String(i + 1).padStart(5, '0')}`,
      width: 1920,
      height: 1080,
      pixelPitchMm: 2.5,
      viewingDistanceM: 8,
      openingHours: [],
      layoutId: layout.id,
    });
    if (++done % 1000 === 0) opts.progress?.(done);
    return { screenId: res.screen.id, token: res.deviceToken };
  });
  return { cityId: city.id, townId: town.id, screens };
}
