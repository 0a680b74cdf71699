import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { ROLE_LABELS, legibleCharHeightPx, type ContentItem, type ContentRecord, type Role, type Daypart, type Layout, type Playlist, type Schedule, type Zone } from '../../content/index.js';
import { randomBytes } from 'node:crypto';
import { writeFileDurably } from '../services/durable-file.js';
import { SYSTEM_ACTOR, hashPassword } from '../services/auth.js';
import { recordAudit } from '../services/audit.js';
import type { MediaService } from '../services/media.js';
import { hashToken } from '../services/realtime.js';
import type { StoredScreen, Store } from '../services/store.js';
import { newDeviceToken } from '../services/pairing.js';

/** A demo screen with the token printed at start. */
export interface DemoScreen {
  readonly id: string;
  readonly name: string;
  readonly zoneName: string;
  readonly width: number;
  readonly height: number;
  readonly token: string;
}

const DEMO_FILE = 'demo-screens.json';
const here = path.dirname(fileURLToPath(import.meta.url));
// Run from source (tsx) the assets sit beside this file; run from dist/ they stay in the source tree.
const assetsDir = existsSync(path.join(here, 'assets')) ? path.join(here, 'assets') : path.resolve(here, '../../../server/seed/assets');

const ZONES: Omit<Zone, 'name'>[] = [
  { id: 'binzhou', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市' },
  { id: 'chengguan', tier: 'town', parentId: 'binzhou', divisionCode: '610482001000', shortName: '城关街道' },
  { id: 'beiji', tier: 'town', parentId: 'binzhou', divisionCode: '610482101000', shortName: '北极镇' },
  { id: 'nanjie', tier: 'village', parentId: 'chengguan', divisionCode: '610482001002', shortName: '南街社区' },
  { id: 'potou', tier: 'village', parentId: 'beiji', divisionCode: '610482101201', shortName: '坡头村' },
  { id: 'dingjia', tier: 'village', parentId: 'beiji', divisionCode: '610482101205', shortName: '丁家村' },
];

const WEEKDAYS = [1, 2, 3, 4, 5];
const OFFICE_HOURS: Daypart[] = [
  { days: WEEKDAYS, start: '08:30', end: '18:00' },
  { days: [6], start: '09:00', end: '17:00' },
];

/** One LED wall per zone, at the odd sizes real sending cards map. */
const SCREENS = [
  { id: 'scr-city-hall', zoneId: 'binzhou', name: '市政务服务中心大厅LED屏', width: 2880, height: 960, pixelPitchMm: 2.5, viewingDistanceM: 8 },
  { id: 'scr-chengguan', zoneId: 'chengguan', name: '城关街道便民服务中心LED屏', width: 1920, height: 1080, pixelPitchMm: 1.86, viewingDistanceM: 5 },
  { id: 'scr-beiji', zoneId: 'beiji', name: '北极镇便民服务中心LED屏', width: 1152, height: 384, pixelPitchMm: 4, viewingDistanceM: 10 },
  { id: 'scr-nanjie', zoneId: 'nanjie', name: '南街社区党群服务中心LED屏', width: 960, height: 320, pixelPitchMm: 3.91, viewingDistanceM: 6 },
  { id: 'scr-potou', zoneId: 'potou', name: '坡头村村委会LED屏', width: 768, height: 256, pixelPitchMm: 5, viewingDistanceM: 8 },
  { id: 'scr-dingjia', zoneId: 'dingjia', name: '丁家村党群服务中心LED屏', width: 1280, height: 720, pixelPitchMm: 2.5, viewingDistanceM: 6 },
];

/** Demo content is seeded as already approved, by the system, with its audit record. */
function seedPublished(item: ContentItem, at: string): ContentRecord {
  return {
    ...item,
    status: 'published',
    published: item,
    review: { createdBy: null, updatedBy: null, submittedBy: null, submittedAt: null, reviewedBy: null, reviewedAt: at, returnReason: null },
  };
}

/** Main area, side column for notices, ticker along the bottom; proportions suit wide and 16:9 walls. */
function layoutFor(id: string, name: string, w: number, h: number, legiblePx: number): Layout {
  // One line of legible text: the player scrolls text there as a ticker.
  const tickerH = Math.max(32, Math.ceil(legiblePx * 1.9));
  const bodyH = h - tickerH;
  const mainW = Math.round(w * 0.62);
  const clockW = Math.round(w * 0.28);
  const now = new Date().toISOString();
  return {
    id,
    zoneId: 'binzhou',
    name,
    width: w,
    height: h,
    background: '#0b1f3a',
    regions: [
      { id: 'main', name: '政策发布与便民服务', x: 0, y: 0, width: mainW, height: bodyH, playlistId: 'pl-main' },
      { id: 'side', name: '公示公告与三务公开', x: mainW, y: 0, width: w - mainW, height: bodyH, playlistId: 'pl-notices' },
      { id: 'ticker', name: '滚动字幕', x: 0, y: bodyH, width: w - clockW, height: tickerH, playlistId: 'pl-ticker' },
      { id: 'clock', name: '时钟', x: w - clockW, y: bodyH, width: clockW, height: tickerH, playlistId: null, widget: 'clock' },
    ],
    createdAt: now,
    updatedAt: now,
  };
}

/** A colourful poster-like image with no text, so that it looks right without CJK fonts. */
async function demoPoster(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="900">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#b71c1c"/><stop offset="1" stop-color="#f57f17"/></linearGradient></defs>
    <rect width="1600" height="900" fill="url(#g)"/>
    <circle cx="1250" cy="250" r="160" fill="#ffd54f" opacity="0.9"/>
    <path d="M0 700 Q400 560 800 690 T1600 650 V900 H0 Z" fill="#2e7d32"/>
    <path d="M0 780 Q500 660 1000 770 T1600 760 V900 H0 Z" fill="#1b5e20"/>
    <rect x="260" y="420" width="420" height="300" fill="#eceff1"/><polygon points="240,420 470,300 700,420" fill="#8d1c1c"/>
    <rect x="430" y="560" width="80" height="160" fill="#5d4037"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

/** A street map of the sub-district: blocks, roads and the river, without labels. */
async function demoMap(): Promise<Buffer> {
  const blocks = [];
  for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) blocks.push(`<rect x="${60 + i * 250}" y="${60 + j * 200}" width="200" height="150" rx="10" fill="#e8e4d8"/>`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="900"><rect width="1600" height="900" fill="#f6f3ea"/>
    ${blocks.join('')}<path d="M0 820 C400 760 900 900 1600 800" stroke="#64b5f6" stroke-width="40" fill="none"/>
    <path d="M0 440 H1600 M790 0 V900" stroke="#ffb74d" stroke-width="28"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Seeds the demo city on a first start with an empty store; returns the demo screens and their tokens. */
export async function seedDemo(deps: { store: Store; media: MediaService; dataDir: string }): Promise<DemoScreen[] | null> {
  const { store, media, dataDir } = deps;
  const d = store.read();
  if (d.meta.seededDemo || d.zones.length > 0) return null;

  const now = Date.now();
  const iso = (offsetDays: number) => new Date(now + offsetDays * 86_400_000).toISOString();
  const stamp = new Date(now).toISOString();
  const tokens = new Map(SCREENS.map((s) => [s.id, newDeviceToken()]));

  // Zones, screens and layouts first, so that uploads know the region sizes in use.
  await store.write((draft) => {
    draft.zones.push(...ZONES.map((z) => ({ ...z, name: '' })));
    for (const s of SCREENS) {
      const layoutId = `lay-${s.id.slice(4)}`;
      draft.layouts.push(layoutFor(layoutId, `${s.width}×${s.height} 三分区`, s.width, s.height, legibleCharHeightPx(s.viewingDistanceM, s.pixelPitchMm)));
      const screen: StoredScreen = {
        ...s,
        openingHours: OFFICE_HOURS,
        layoutId,
        tokenHash: hashToken(tokens.get(s.id) ?? ''),
        createdAt: stamp,
        updatedAt: stamp,
      };
      draft.screens.push(screen);
    }
  });

  const poster = await media.ingest(await demoPoster(), '政务公开宣传画.jpg');
  const map = await media.ingest(await demoMap(), '城关街道便民服务地图.png');
  const clip = await media.ingest(await readFile(path.join(assetsDir, 'demo-clip.webm')), '政务公开专区介绍.webm');

  const base = { validFrom: null, validTo: null, durationS: null, createdAt: stamp, updatedAt: stamp };
  const content: ContentItem[] = [
    {
      ...base,
      id: 'c-policy-zone-plan',
      kind: 'policy',
      zoneId: 'binzhou',
      title: '彬州市政务公开专区标准化规范化建设工作方案',
      docNumber: '彬政办发〔2022〕42号',
      issuer: '彬州市人民政府办公室',
      issuedDate: '2022-11-29',
      sourceUrl: 'http://www.snbinzhou.gov.cn/zfxxgk/fdzdgknr/zcwj/',
      body:
        '政务公开专区是打通政务公开服务群众“最后一公里”的重要举措。按照“六统一、三规范”要求,分两年实施政务公开专区标准化规范化建设。到2023年底,全面建成全市统一、系统完备、管理规范、线上线下同步、融合发展的市、镇、村三级政务公开专区标准化规范化服务体系。市级专区设在政务服务大厅明显位置,面积不低于15平方米;镇(街道)专区原则上设在便民服务中心,面积不低于10平方米;村(社区)专区设在村(居)委会党群服务中心,面积不低于5平方米。',
      interpretation: {
        title: '一图读懂《彬州市政务公开专区标准化规范化建设工作方案》',
        body: '方案明确了市、镇、村三级专区的名称、面积和六大功能区:自助查询区、依申请公开受理区、政策发布解读区、政府信息查阅区、政民互动区和便民服务区。群众可在专区查询政策文件、申请政府信息公开、了解办事指南,并通过意见箱提出意见建议。',
        sourceUrl: null,
      },
    },
    {
      ...base,
      id: 'c-policy-medical-insurance',
      kind: 'policy',
      zoneId: 'binzhou',
      title: '关于做好2027年度城乡居民基本医疗保险参保缴费工作的通知',
      docNumber: '彬医保发〔2026〕17号',
      issuer: '彬州市医疗保障局',
      issuedDate: '2026-09-15',
      sourceUrl: 'http://www.snbinzhou.gov.cn/zfxxgk/fdzdgknr/zcwj/',
      body: '2027年度城乡居民基本医疗保险集中缴费期为2026年9月1日至12月31日。个人缴费标准为每人每年400元。特困人员、低保对象、返贫致贫人口等困难群众按规定享受参保资助。参保群众可通过“陕西医保”APP、微信公众号或到村(社区)便民服务站办理缴费。',
      interpretation: {
        title: '城乡居民医保缴费政策解读',
        body: '今年个人缴费标准与上年相比保持稳定。集中缴费期内参保缴费的,待遇享受期为2027年1月1日至12月31日。新生儿、退役军人等特殊群体可在集中缴费期外参保。如有疑问,请拨打彬州市医疗保障局咨询电话。',
        sourceUrl: null,
      },
    },
    {
      ...base,
      id: 'c-notice-renovation',
      kind: 'notice',
      zoneId: 'chengguan',
      title: '关于南街片区老旧小区改造项目实施方案的公示',
      body: '为改善居民居住条件,城关街道拟对南街片区6个老旧小区实施改造,内容包括屋面防水、外墙保温、雨污分流和适老化设施。现将实施方案予以公示,公示期内如有异议,请向城关街道办事处反映。',
      publicityStart: iso(-2),
      publicityEnd: iso(5),
      contact: '城关街道办事处 029-34xxxxx',
    },
    {
      ...base,
      id: 'c-notice-dibao',
      kind: 'notice',
      zoneId: 'beiji',
      title: '北极镇2026年第四季度城乡最低生活保障对象拟认定名单公示',
      body: '经个人申请、入户调查、民主评议,拟认定坡头村、丁家村等8个村共23户为城乡低保对象。公示期为7天,对公示对象有异议的,可向北极镇人民政府社会事务办公室实名反映。',
      publicityStart: iso(-1),
      publicityEnd: iso(6),
      contact: '北极镇社会事务办公室',
    },
    {
      ...base,
      id: 'c-map-chengguan',
      kind: 'service-map',
      zoneId: 'chengguan',
      title: '城关街道便民服务地图',
      mediaHash: map.media.hash,
      caption: '就近办、马上办:街道便民服务点一览',
      markers: [
        { name: '城关街道便民服务中心', x: 0.5, y: 0.5, address: '公刘街中段', phone: '029-34xxxxx', hours: '周一至周五 8:30—18:00' },
        { name: '社区卫生服务站', x: 0.22, y: 0.3, address: '南街社区', phone: '', hours: '8:00—20:00' },
        { name: '城关派出所户籍窗口', x: 0.78, y: 0.3, address: '东街', phone: '', hours: '工作日' },
      ],
    },
    {
      ...base,
      id: 'c-guide-pension',
      kind: 'service-guide',
      zoneId: 'binzhou',
      title: '城乡居民基本养老保险参保登记',
      matter: '城乡居民基本养老保险参保登记',
      department: '彬州市社会保险经办中心',
      steps: ['携带材料到村(社区)便民服务站或镇(街道)便民服务中心', '填写参保登记表', '窗口审核并录入系统', '选择缴费档次并缴费'],
      materials: ['居民身份证', '户口簿'],
      timeLimit: '即时办结',
      fee: '不收费',
      location: '各镇(街道)便民服务中心社保窗口',
      phone: '12333',
    },
    {
      ...base,
      id: 'c-affairs-potou-finance',
      kind: 'three-affairs',
      zoneId: 'potou',
      title: '坡头村2026年第三季度财务收支公开',
      category: 'finance',
      period: '2026年第三季度',
      body: '根据村务公开有关规定,现将本村2026年第三季度财务收支情况公开如下,接受全体村民监督。',
      rows: [
        { item: '上级转移支付收入', amount: '86,400.00元', note: '村级组织运转经费' },
        { item: '集体经营收入', amount: '32,150.00元', note: '苹果冷库租赁' },
        { item: '道路维修支出', amount: '41,800.00元', note: '三组生产路' },
        { item: '办公费用支出', amount: '6,230.00元', note: '' },
      ],
    },
    {
      ...base,
      id: 'c-affairs-dingjia-village',
      kind: 'three-affairs',
      zoneId: 'dingjia',
      title: '丁家村高标准农田建设项目村务公开',
      category: 'village',
      period: '2026年度',
      body: '丁家村2026年度高标准农田建设项目涉及耕地1200亩,主要建设内容为土地平整、田间道路和节水灌溉设施。项目已经村民代表大会讨论通过,现予公开。',
      rows: [],
    },
    {
      ...base,
      id: 'c-affairs-nanjie-party',
      kind: 'three-affairs',
      zoneId: 'nanjie',
      title: '南街社区党委关于发展党员的公示',
      category: 'party',
      period: '2026年11月',
      body: '经党支部委员会审查,拟将2名同志列为发展对象,现予公示。公示期5个工作日,如有意见请向社区党委反映。',
      rows: [],
    },
    {
      ...base,
      id: 'c-text-welcome',
      kind: 'text',
      zoneId: 'binzhou',
      title: '欢迎语',
      body: '欢迎来到彬州市政务公开专区!您可以在这里查询政府信息、申请信息公开、了解办事指南。开放时间:周一至周五 8:30—18:00。',
      align: 'left',
    },
    {
      ...base,
      id: 'c-text-hotline',
      kind: 'text',
      zoneId: 'binzhou',
      title: '12345热线',
      body: '12345政务服务便民热线7×24小时为您服务,有诉求请拨打12345。',
      align: 'left',
    },
    {
      ...base,
      id: 'c-image-poster',
      kind: 'image',
      zoneId: 'binzhou',
      title: '政务公开 便民利民',
      mediaHash: poster.media.hash,
      fit: 'cover',
      caption: '以公开促落实、促规范、促服务',
    },
    {
      ...base,
      id: 'c-video-intro',
      kind: 'video',
      zoneId: 'binzhou',
      title: '政务公开专区介绍短片',
      mediaHash: clip.media.hash,
      muted: true,
      durationS: 12,
    },
  ];

  const schedules: Schedule[] = [
    { id: 'sch-office', zoneId: 'binzhou', name: '工作时间', validFrom: null, validTo: null, dayparts: OFFICE_HOURS, priority: 0, weight: 1, createdAt: stamp, updatedAt: stamp },
    { id: 'sch-morning', zoneId: 'binzhou', name: '上午高峰', validFrom: null, validTo: null, dayparts: [{ days: WEEKDAYS, start: '08:00', end: '12:00' }], priority: 0, weight: 2, createdAt: stamp, updatedAt: stamp },
  ];
  const playlists: Playlist[] = [
    {
      id: 'pl-main',
      name: '政策发布与便民服务(本级及上级)',
      zoneId: 'binzhou',
      mode: 'rule',
      entries: [],
      rule: { kinds: ['policy', 'service-guide', 'service-map', 'image', 'video'], scope: 'ancestors', limit: 30 },
      defaultDurationS: 20,
      scheduleId: null,
      createdAt: stamp,
      updatedAt: stamp,
    },
    {
      id: 'pl-notices',
      name: '公示公告与三务公开(本级及上级)',
      zoneId: 'binzhou',
      mode: 'rule',
      entries: [],
      rule: { kinds: ['notice', 'three-affairs'], scope: 'ancestors', limit: 30 },
      defaultDurationS: 15,
      scheduleId: null,
      createdAt: stamp,
      updatedAt: stamp,
    },
    {
      id: 'pl-ticker',
      name: '滚动字幕',
      zoneId: 'binzhou',
      mode: 'fixed',
      entries: [
        { contentId: 'c-text-welcome', durationS: 30 },
        { contentId: 'c-text-hotline', durationS: 20, scheduleId: 'sch-morning' },
      ],
      rule: null,
      defaultDurationS: 30,
      scheduleId: null,
      createdAt: stamp,
      updatedAt: stamp,
    },
  ];

  await store.write((draft) => {
    draft.content.push(...content.map((c) => seedPublished(c, stamp)));
    draft.schedules.push(...schedules);
    draft.playlists.push(...playlists);
    draft.meta.seededDemo = true;
  });

  const zoneNames = new Map(ZONES.map((z) => [z.id, z.shortName]));
  const demo: DemoScreen[] = SCREENS.map((s) => ({
    id: s.id,
    name: s.name,
    zoneName: zoneNames.get(s.zoneId) ?? '',
    width: s.width,
    height: s.height,
    token: tokens.get(s.id) ?? '',
  }));
  await writeFileDurably(path.join(dataDir, DEMO_FILE), JSON.stringify(demo, null, 2));
  return demo;
}

/** The demo screens recorded at seeding, or an empty list when there are none. */
export async function readDemoScreens(dataDir: string): Promise<DemoScreen[]> {
  try {
    return JSON.parse(await readFile(path.join(dataDir, DEMO_FILE), 'utf8')) as DemoScreen[];
  } catch {
    return [];
  }
}

/** A demo account, printed at start with its password while that password is unchanged. */
export interface DemoUser {
  readonly username: string;
  readonly displayName: string;
  readonly role: Role;
  readonly zoneId: string;
  readonly zoneName: string;
  readonly password: string;
}

const USERS_FILE = 'demo-users.json';

/** One demo account per role: the city's admin and inspector, a sub-district's editor and reviewer. */
const DEMO_USERS: Omit<DemoUser, 'password' | 'zoneName'>[] = [
  { username: 'binzhou-admin', displayName: '彬州市管理员', role: 'city-admin', zoneId: 'binzhou' },
  { username: 'chengguan-editor', displayName: '城关街道编辑', role: 'editor', zoneId: 'chengguan' },
  { username: 'chengguan-reviewer', displayName: '城关街道审核员', role: 'reviewer', zoneId: 'chengguan' },
  { username: 'binzhou-inspector', displayName: '彬州市巡查员', role: 'inspector', zoneId: 'binzhou' },
];

/**
 * Creates the demo accounts once, after the demo city, each with a random password kept in
 * DATA_DIR/demo-users.json so that the start output can list them.
 */
export async function seedDemoUsers(deps: { store: Store; dataDir: string }): Promise<DemoUser[] | null> {
  const { store, dataDir } = deps;
  const d = store.read();
  if (!d.meta.seededDemo || DEMO_USERS.some((u) => d.users.some((x) => x.username === u.username))) return null;
  const zoneNames = new Map(ZONES.map((z) => [z.id, z.shortName]));
  const users: DemoUser[] = DEMO_USERS.map((u) => ({ ...u, zoneName: zoneNames.get(u.zoneId) ?? '', password: `demo-${randomBytes(6).toString('base64url')}` }));
  const hashes = await Promise.all(users.map((u) => hashPassword(u.password)));
  await store.write((draft) => {
    const now = new Date().toISOString();
    users.forEach((u, i) => {
      const doc = { id: `u-${u.username}`, username: u.username, displayName: u.displayName, role: u.role, zoneId: u.zoneId, disabled: false, passwordHash: hashes[i] ?? '', createdAt: now, updatedAt: now, passwordChangedAt: now };
      draft.users.push(doc);
      recordAudit(draft, { actor: SYSTEM_ACTOR, action: 'user.create', entity: 'user', entityId: doc.id, zoneId: doc.zoneId, after: doc, detail: 'demo account' });
    });
  });
  await writeFileDurably(path.join(dataDir, USERS_FILE), JSON.stringify(users, null, 2));
  return users;
}

/** The demo accounts whose password is still the seeded one, for the start output. */
export async function readDemoUsers(dataDir: string, store: Store): Promise<(DemoUser & { roleLabel: string })[]> {
  let users: DemoUser[];
  try {
    users = JSON.parse(await readFile(path.join(dataDir, USERS_FILE), 'utf8')) as DemoUser[];
  } catch {
    return [];
  }
  const live = store.read().users;
  return users
    .filter((u) => live.some((x) => x.username === u.username && !x.disabled && x.passwordChangedAt === x.createdAt))
    .map((u) => ({ ...u, roleLabel: ROLE_LABELS[u.role].zh }));
}
