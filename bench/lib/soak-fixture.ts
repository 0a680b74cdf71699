import sharp from 'sharp';
import type { ContentInput, Layout, Media, Playlist, Region, Zone } from '../../content/index.js';
import { addReviewer, publish, type Api } from './api.js';

/** What the soak set up: the screen to open and the rotation it plays. */
export interface SoakFixture {
  readonly screenId: string;
  readonly token: string;
  readonly width: number;
  readonly height: number;
  /** Seconds of each region's rotation, by region id (playlist regions only). */
  readonly cycleS: Readonly<Record<string, number>>;
  /** Seconds after which every region is back where it started: the screen's period. */
  readonly periodS: number;
  /** Item changes in one period, over all regions. */
  readonly changesPerPeriod: number;
  /** One line per region: what it plays, for the results file. */
  readonly description: readonly string[];
}

const W = 960;
const H = 540;
const TICKER_H = 48;
const MAIN_W = 600;
const TICKER_W = 672;

type Input = ContentInput;
type Entry = { readonly contentId: string; readonly durationS: number };

const common = { validFrom: null, validTo: null, durationS: null } as const;

// Long enough that the main region pages through it several times per slot.
const POLICY_BODY =
  '为进一步做好城乡居民基本医疗保险参保缴费工作，现就有关事项通知如下。一、集中缴费期为每年九月一日至十二月三十一日，' +
  '个人缴费标准为每人每年四百元。二、特困人员、低保对象、返贫致贫人口等困难群众按规定享受参保资助，由民政、乡村振兴部门核实身份后统一办理。' +
  '三、参保群众可通过手机客户端、微信公众号或到村（社区）便民服务站办理缴费，缴费成功后可在线查询参保状态。' +
  '四、新生儿、退役军人、刑满释放人员等特殊群体可在集中缴费期外参保，待遇享受期按有关规定执行。' +
  '五、各镇（街道）要加强政策宣传，做到应保尽保，不得以任何理由拒绝或拖延办理。';
const POLICY_INTERPRETATION =
  '今年个人缴费标准与上年相比保持稳定，财政补助标准提高三十元。集中缴费期内参保缴费的，待遇享受期为次年一月一日至十二月三十一日。' +
  '如有疑问，请拨打医疗保障局咨询电话，或到就近便民服务中心咨询。';

/** A picture with no text in it; `seed` varies colours and shapes so that every upload is distinct. */
async function picture(width: number, height: number, seed: number, format: 'jpeg' | 'png' | 'webp'): Promise<Buffer> {
  const hue = (seed * 67) % 360;
  const shapes = Array.from({ length: 12 }, (_, i) => {
    const x = ((i * 97 + seed * 31) % 100) / 100;
    const y = ((i * 53 + seed * 17) % 100) / 100;
    const r = Math.round(Math.min(width, height) * (0.04 + ((i * 7 + seed) % 10) / 100));
    return `<circle cx="${Math.round(x * width)}" cy="${Math.round(y * height)}" r="${r}" fill="hsl(${(hue + i * 29) % 360},70%,55%)" opacity="0.85"/>`;
  }).join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue},60%,30%)"/>` +
    `<stop offset="1" stop-color="hsl(${(hue + 120) % 360},60%,50%)"/></linearGradient></defs>` +
    `<rect width="${width}" height="${height}" fill="url(#g)"/>${shapes}</svg>`;
  const img = sharp(Buffer.from(svg));
  return (format === 'jpeg' ? img.jpeg({ quality: 85 }) : format === 'png' ? img.png() : img.webp({ quality: 85 })).toBuffer();
}

async function upload(api: Api, name: string, bytes: Buffer, mime: string): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: mime }), name);
  return (await api.postForm<{ media: Media }>('/api/media', form)).media.hash;
}

function cycle(entries: readonly Entry[]): number {
  return entries.reduce((s, e) => s + e.durationS, 0);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * One always-open 960×540 screen with a main region, a side column, a ticker and a clock, each
 * playlist mixing images (so textures load and unload on every pass) with paged text. The
 * rotations last 60, 30 and 20 seconds, so the whole screen repeats every 60 seconds of its clock
 * and a reading at the start can be compared with one at the end over the same states.
 * Created as the admin; each item is published through review (submitted, then approved by a
 * reviewer), as content must be before it reaches a screen.
 */
export async function seedSoakFixture(admin: Api): Promise<SoakFixture> {
  const api = admin;
  const zone = await api.post<Zone>('/api/zones', { tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市' });
  const z = zone.id;
  const staff = { admin, reviewer: await addReviewer(admin, z) };

  const [poster, photo, map, banner] = await Promise.all([
    picture(1600, 900, 1, 'jpeg').then((b) => upload(api, 'soak-poster.jpg', b, 'image/jpeg')),
    picture(900, 1200, 2, 'png').then((b) => upload(api, 'soak-photo.png', b, 'image/png')),
    picture(1600, 900, 3, 'png').then((b) => upload(api, 'soak-map.png', b, 'image/png')),
    picture(1200, 600, 4, 'webp').then((b) => upload(api, 'soak-banner.webp', b, 'image/webp')),
  ]);

  const now = Date.now();
  const publicity = { publicityStart: new Date(now - 86_400_000).toISOString(), publicityEnd: new Date(now + 30 * 86_400_000).toISOString() };
  const items: Input[] = [
    { ...common, kind: 'image', zoneId: z, title: '宣传画', mediaHash: poster, fit: 'cover', caption: '政务公开 便民利民 —— 欢迎来到政务公开专区' },
    { ...common, kind: 'image', zoneId: z, title: '便民服务照片', mediaHash: photo, fit: 'contain', caption: '' },
    { ...common, kind: 'image', zoneId: z, title: '横幅', mediaHash: banner, fit: 'contain', caption: '十二项便民服务 一窗受理' },
    {
      ...common, kind: 'service-map', zoneId: z, title: '便民服务地图', mediaHash: map, caption: '就近办、马上办:便民服务点一览',
      markers: [
        { name: '便民服务中心', x: 0.5, y: 0.5, address: '公刘街中段', phone: '029-34xxxxx', hours: '8:30—18:00' },
        { name: '卫生服务站', x: 0.22, y: 0.3, address: '南街社区', phone: '', hours: '8:00—20:00' },
        { name: '户籍窗口', x: 0.78, y: 0.3, address: '东街', phone: '', hours: '工作日' },
      ],
    },
    {
      ...common, kind: 'policy', zoneId: z, title: '关于做好城乡居民基本医疗保险参保缴费工作的通知', docNumber: '彬医保发〔2026〕17号',
      issuer: '彬州市医疗保障局', issuedDate: '2026-09-15', sourceUrl: 'http://www.snbinzhou.gov.cn/zfxxgk/', body: POLICY_BODY,
      interpretation: { title: '城乡居民医保缴费政策解读', body: POLICY_INTERPRETATION, sourceUrl: null },
    },
    {
      ...common, kind: 'policy', zoneId: z, title: '政务公开专区建设工作方案', docNumber: '彬政办发〔2022〕42号', issuer: '彬州市人民政府办公室',
      issuedDate: '2022-11-29', sourceUrl: 'http://www.snbinzhou.gov.cn/zfxxgk/', body: POLICY_BODY.slice(0, 160),
      interpretation: { title: '一图读懂', body: POLICY_INTERPRETATION.slice(0, 80), sourceUrl: null },
    },
    { ...common, kind: 'text', zoneId: z, title: '欢迎', body: '欢迎来到政务公开专区\n查政策 办事项 提建议', align: 'center' },
    {
      ...common, kind: 'notice', zoneId: z, title: '关于南街片区老旧小区改造项目实施方案的公示', ...publicity, contact: '城关街道办事处 029-34xxxxx',
      body: '城关街道拟对南街片区六个老旧小区实施改造,内容包括屋面防水、外墙保温、雨污分流和适老化设施。公示期内如有异议,请向街道办事处反映。',
    },
    {
      ...common, kind: 'notice', zoneId: z, title: '第四季度最低生活保障对象拟认定名单公示', ...publicity, contact: '社会事务办公室',
      body: '经个人申请、入户调查、民主评议,拟认定二十三户为城乡低保对象。公示期为七天,有异议的可实名反映。',
    },
    {
      ...common, kind: 'service-guide', zoneId: z, title: '城乡居民基本养老保险参保登记', matter: '城乡居民基本养老保险参保登记', department: '社会保险经办中心',
      steps: ['携带材料到便民服务中心', '填写参保登记表', '窗口审核并录入系统', '选择缴费档次并缴费'], materials: ['居民身份证', '户口簿'],
      timeLimit: '即时办结', fee: '不收费', location: '便民服务中心社保窗口', phone: '12333',
    },
    {
      ...common, kind: 'three-affairs', zoneId: z, title: '第三季度财务收支公开', category: 'finance', period: '2026年第三季度',
      body: '现将本村第三季度财务收支情况公开如下,接受全体村民监督。',
      rows: [
        { item: '上级转移支付收入', amount: '86,400.00元', note: '村级组织运转经费' },
        { item: '集体经营收入', amount: '32,150.00元', note: '冷库租赁' },
        { item: '道路维修支出', amount: '41,800.00元', note: '生产路' },
      ],
    },
    { ...common, kind: 'text', zoneId: z, title: '字幕一', body: '政务服务便民热线 12345 —— 有事您说话,办事不求人', align: 'left' },
    { ...common, kind: 'text', zoneId: z, title: '字幕二', body: '依申请公开受理区设在大厅东侧,工作日 8:30—18:00 受理', align: 'left' },
    {
      ...common, kind: 'notice', zoneId: z, title: '停水通知', ...publicity, contact: '',
      body: '因管网改造,本周六 8:00—14:00 南街片区停水,请居民提前储水。',
    },
  ];
  const ids: string[] = [];
  for (const item of items) {
    const { id } = await api.post<{ id: string }>('/api/content', item);
    await publish(staff, id);
    ids.push(id);
  }
  const id = (i: number): string => ids[i] ?? '';

  // Whole seconds that sum to 60, 30 and 20: the screen's state repeats every 60 s of its clock.
  // At the default ×20 a slot lasts 0.3–0.8 s real, a few frames even for SwiftShader on a busy
  // machine, so that each item is drawn and its image loaded before it goes. The images come
  // first in both picture regions, so that for about a third of each period no image is held or
  // prefetched anywhere: the fewest textures a reading sees is then the player's floor.
  const rotations: Record<string, Entry[]> = {
    main: [
      { contentId: id(0), durationS: 6 },
      { contentId: id(3), durationS: 6 },
      { contentId: id(1), durationS: 6 },
      { contentId: id(4), durationS: 16 },
      { contentId: id(6), durationS: 6 },
      { contentId: id(7), durationS: 8 },
      { contentId: id(9), durationS: 6 },
      { contentId: id(10), durationS: 6 },
    ],
    side: [
      { contentId: id(1), durationS: 8 },
      { contentId: id(2), durationS: 6 },
      { contentId: id(8), durationS: 8 },
      { contentId: id(5), durationS: 8 },
    ],
    ticker: [
      { contentId: id(11), durationS: 6 },
      { contentId: id(12), durationS: 6 },
      { contentId: id(13), durationS: 8 },
    ],
  };
  const playlistIds: Record<string, string> = {};
  for (const [region, entries] of Object.entries(rotations)) {
    const pl = await api.post<Playlist>('/api/playlists', {
      name: `soak ${region}`, zoneId: z, mode: 'fixed', entries, rule: null, defaultDurationS: 5, scheduleId: null,
    });
    playlistIds[region] = pl.id;
  }

  const regions: Region[] = [
    { id: 'main', name: '主区', x: 0, y: 0, width: MAIN_W, height: H - TICKER_H, playlistId: playlistIds.main ?? null },
    { id: 'side', name: '侧栏', x: MAIN_W, y: 0, width: W - MAIN_W, height: H - TICKER_H, playlistId: playlistIds.side ?? null },
    { id: 'ticker', name: '字幕', x: 0, y: H - TICKER_H, width: TICKER_W, height: TICKER_H, playlistId: playlistIds.ticker ?? null },
    { id: 'clock', name: '时钟', x: TICKER_W, y: H - TICKER_H, width: W - TICKER_W, height: TICKER_H, playlistId: null, widget: 'clock' },
  ];
  const layout = await api.post<Layout>('/api/layouts', { zoneId: z, name: 'soak 960×540', width: W, height: H, background: '#0b1f3a', regions });
  const created = await api.post<{ screen: { id: string }; deviceToken: string }>('/api/screens', {
    zoneId: z, name: '浸泡测试屏 soak screen', width: W, height: H, pixelPitchMm: 2.5, viewingDistanceM: 4, openingHours: [], layoutId: layout.id,
  });

  const cycleS = Object.fromEntries(Object.entries(rotations).map(([r, e]) => [r, cycle(e)]));
  const periodS = Object.values(cycleS).reduce((a, b) => (a * b) / gcd(a, b), 1);
  const changesPerPeriod = Object.entries(rotations).reduce((n, [r, e]) => n + e.length * (periodS / (cycleS[r] ?? periodS)), 0);
  const kinds = (entries: readonly Entry[]) => entries.map((e) => `${items[ids.indexOf(e.contentId)]?.kind ?? '?'} ${e.durationS}s`).join(', ');
  return {
    screenId: created.screen.id,
    token: created.deviceToken,
    width: W,
    height: H,
    cycleS,
    periodS,
    changesPerPeriod,
    description: [
      `main ${MAIN_W}×${H - TICKER_H}: ${kinds(rotations.main ?? [])}`,
      `side ${W - MAIN_W}×${H - TICKER_H}: ${kinds(rotations.side ?? [])}`,
      `ticker ${TICKER_W}×${TICKER_H} (scrolling): ${kinds(rotations.ticker ?? [])}`,
      `clock ${W - TICKER_W}×${TICKER_H}: clock widget (seconds)`,
    ],
  };
}
