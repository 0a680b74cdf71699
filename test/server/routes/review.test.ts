import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, ContentRecord, ContentStatus, ErrorBody, Manifest, ReviewAction } from '../../../content/index.js';
import { buildTestApp, connectScreen, once, record, type ScreenSocket, type TestApp, type TestUser } from '../../helpers/app.js';

/*
 * The review workflow (发布审核) on the demo city: 彬州市 (binzhou) with the towns 北极镇 (beiji,
 * villages potou and dingjia) and 城关街道 (chengguan). Screens show only approved versions.
 */

let t: TestApp;
let editor: TestUser; // 北极镇 editor
let editor2: TestUser; // a second 北极镇 editor
let reviewer: TestUser; // 北极镇 reviewer
let cityReviewer: TestUser;
let cityEditor: TestUser;
let otherTownEditor: TestUser; // 城关街道
let otherTownReviewer: TestUser;
let inspector: TestUser; // 北极镇, read-only
const audit = new Map<number, AuditEntry>();
let seq = 0;

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown> | null;
}

async function call(as: TestUser, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object): Promise<Answer> {
  const res = await t.app.inject({ method, url, payload, headers: { cookie: as.cookie } });
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : null };
}

/** Calls as `as` and expects a 2xx; returns the record. */
async function ok(as: TestUser, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object): Promise<ContentRecord> {
  return (await t.api(method, url, payload, as)) as unknown as ContentRecord;
}

function expectError(res: Answer, status: number, code: string, detail?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  const body = res.body as unknown as ErrorBody;
  expect(body).toMatchObject({ ok: false, code });
  expect(body.message.zh).toMatch(/[\u4e00-\u9fff]/);
  expect(body.message.en.length).toBeGreaterThan(3);
  if (detail !== undefined) expect(body.detail).toBe(detail);
}

const notice = (id: string, zoneId: string, body: string) => ({
  id,
  kind: 'notice',
  zoneId,
  title: `${id} 公示`,
  validFrom: null,
  validTo: null,
  durationS: null,
  body,
  publicityStart: new Date(Date.now() - 3_600_000).toISOString(),
  publicityEnd: new Date(Date.now() + 5 * 86_400_000).toISOString(),
  contact: '',
});

/** The fields of a notice that an edit changes; `published` must carry the approved ones. */
const bodyOf = (c: object | null | undefined): unknown => (c && 'body' in c ? c.body : undefined);

const create = (id: string, zoneId = 'beiji', body = `${id} 初稿`) => ok(editor, 'POST', '/api/content', notice(id, zoneId, body));
const edit = (id: string, body: string, as = editor, zoneId = 'beiji') => ok(as, 'PUT', `/api/content/${id}`, notice(id, zoneId, body));
const act = (id: string, action: ReviewAction, as: TestUser, payload?: object) => call(as, 'POST', `/api/content/${id}/${action}`, payload);
const reason = { reason: '公示期填写有误,请核对后重新提交' };
/** Who takes each action in the workflow: authors submit and recall, reviewers decide. */
const actorFor = (action: ReviewAction): TestUser => (action === 'submit' || action === 'recall' ? editor : reviewer);
const payloadFor = (action: ReviewAction) => (action === 'return' ? reason : undefined);

async function must(answer: Promise<Answer>): Promise<void> {
  const res = await answer;
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

async function step(id: string, action: ReviewAction): Promise<ContentRecord> {
  const res = await act(id, action, actorFor(action), payloadFor(action));
  expect(res.status, `${id} ${action}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body as unknown as ContentRecord;
}

const getItem = (id: string) => ok(t.admin, 'GET', `/api/content/${id}`);
const manifestOf = async (screenId: string) => (await t.api('GET', `/api/screens/${screenId}/manifest`)) as unknown as Manifest;

beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  editor = await t.addUser({ username: 'beiji-editor', role: 'editor', zoneId: 'beiji' });
  editor2 = await t.addUser({ username: 'beiji-editor2', role: 'editor', zoneId: 'beiji' });
  reviewer = await t.addUser({ username: 'beiji-reviewer', role: 'reviewer', zoneId: 'beiji' });
  cityReviewer = await t.addUser({ username: 'city-reviewer', role: 'reviewer', zoneId: 'binzhou' });
  cityEditor = await t.addUser({ username: 'city-editor', role: 'editor', zoneId: 'binzhou' });
  otherTownEditor = await t.addUser({ username: 'cg-editor', role: 'editor', zoneId: 'chengguan' });
  otherTownReviewer = await t.addUser({ username: 'cg-reviewer', role: 'reviewer', zoneId: 'chengguan' });
  inspector = await t.addUser({ username: 'beiji-inspector', role: 'inspector', zoneId: 'beiji' });
  // Entries sit in the store's outbox from their commit until the audit log takes them.
  t.app.store.onCommit((data) => {
    for (const e of data.audit.outbox) audit.set(e.seq, e);
  });
});
afterAll(async () => t.close());

describe('creating and editing', () => {
  it('creates an item as a draft with no published version, stamped with its author', async () => {
    const c = await create('c-new');
    expect(c).toMatchObject({ id: 'c-new', status: 'draft', published: null });
    expect(c.review).toEqual({ createdBy: editor.user.id, updatedBy: editor.user.id, submittedBy: null, submittedAt: null, reviewedBy: null, reviewedAt: null, returnReason: null });
    expect(await getItem('c-new')).toEqual(c);
  });

  it('refuses a status in the input: status moves only by review actions', async () => {
    expectError(await call(editor, 'POST', '/api/content', { ...notice('c-status', 'beiji', 'x'), status: 'published' }), 400, 'VALIDATION_FAILED');
    expectError(await call(editor, 'PUT', '/api/content/c-new', { ...notice('c-new', 'beiji', 'x'), status: 'published' }), 400, 'VALIDATION_FAILED');
  });

  it('keeps the author and records who edited last', async () => {
    const c = await edit('c-new', '第二稿', editor2);
    expect(c).toMatchObject({ status: 'draft', published: null, body: '第二稿' });
    expect(c.review).toMatchObject({ createdBy: editor.user.id, updatedBy: editor2.user.id });
  });

  it('checks references and windows on a replacement as on creation', async () => {
    expectError(await call(editor, 'PUT', '/api/content/c-new', { ...notice('c-new', 'beiji', 'x'), publicityStart: new Date(Date.now() + 86_400_000).toISOString(), publicityEnd: new Date().toISOString() }), 422, 'WINDOW_INVALID');
    await ok(editor, 'POST', '/api/content', { id: 'c-pic', kind: 'text', zoneId: 'beiji', title: '图', validFrom: null, validTo: null, durationS: null, body: 'x', align: 'left' });
    expectError(await call(editor, 'PUT', '/api/content/c-pic', { kind: 'image', zoneId: 'beiji', title: '图', validFrom: null, validTo: null, durationS: null, mediaHash: 'a'.repeat(64), fit: 'contain', caption: '' }), 422, 'REFERENCE_MISSING');
    expectError(await call(editor, 'PUT', '/api/content/c-new', notice('c-new', 'ghost', 'x')), 403, 'FORBIDDEN_SCOPE');
    expectError(await call(editor, 'PUT', '/api/content/c-ghost', notice('c-ghost', 'beiji', 'x')), 404, 'NOT_FOUND');
  });

  it('refuses to edit a submitted item with 409 CONTENT_UNDER_REVIEW until it is recalled', async () => {
    await create('c-locked');
    await step('c-locked', 'submit');
    expectError(await call(editor, 'PUT', '/api/content/c-locked', notice('c-locked', 'beiji', '偷改')), 409, 'CONTENT_UNDER_REVIEW');
    expect(bodyOf(await getItem('c-locked'))).toBe('c-locked 初稿');
    await step('c-locked', 'recall');
    expect(await edit('c-locked', '撤回后修改')).toMatchObject({ status: 'draft', body: '撤回后修改' });
  });

  it('deletes a draft, refuses to delete a published item with 409 CONTENT_PUBLISHED, and deletes it once withdrawn', async () => {
    await create('c-scrap');
    expect((await call(editor, 'DELETE', '/api/content/c-scrap')).status).toBe(204);
    await create('c-live');
    await step('c-live', 'submit');
    await step('c-live', 'approve');
    expectError(await call(editor, 'DELETE', '/api/content/c-live'), 409, 'CONTENT_PUBLISHED');
    expectError(await call(t.admin, 'DELETE', '/api/content/c-live'), 409, 'CONTENT_PUBLISHED');
    await step('c-live', 'withdraw');
    expect((await call(editor, 'DELETE', '/api/content/c-live')).status).toBe(204);
    expectError(await call(editor, 'GET', '/api/content/c-live'), 404, 'NOT_FOUND');
  });
});

/** How to bring a fresh item into each state: its status, and whether a published version exists. */
const STATES: { name: string; status: ContentStatus; published: boolean; steps: (ReviewAction | 'edit')[] }[] = [
  { name: 'draft', status: 'draft', published: false, steps: [] },
  { name: 'submitted', status: 'submitted', published: false, steps: ['submit'] },
  { name: 'returned', status: 'returned', published: false, steps: ['submit', 'return'] },
  { name: 'published', status: 'published', published: true, steps: ['submit', 'approve'] },
  { name: 'withdrawn', status: 'withdrawn', published: false, steps: ['submit', 'approve', 'withdraw'] },
  { name: 'draft edit of a published item', status: 'draft', published: true, steps: ['submit', 'approve', 'edit'] },
  { name: 'submitted edit of a published item', status: 'submitted', published: true, steps: ['submit', 'approve', 'edit', 'submit'] },
  { name: 'returned edit of a published item', status: 'returned', published: true, steps: ['submit', 'approve', 'edit', 'submit', 'return'] },
];

/** The workflow, written out: the status each action leads to from each state, or null for 409. */
const EXPECTED: Record<string, Record<ReviewAction, ContentStatus | null>> = {
  draft: { submit: 'submitted', recall: null, approve: null, return: null, withdraw: null },
  submitted: { submit: null, recall: 'draft', approve: 'published', return: 'returned', withdraw: null },
  returned: { submit: 'submitted', recall: null, approve: null, return: null, withdraw: null },
  published: { submit: null, recall: null, approve: null, return: null, withdraw: 'withdrawn' },
  withdrawn: { submit: 'submitted', recall: null, approve: null, return: null, withdraw: null },
  'draft edit of a published item': { submit: 'submitted', recall: null, approve: null, return: null, withdraw: 'withdrawn' },
  'submitted edit of a published item': { submit: null, recall: 'draft', approve: 'published', return: 'returned', withdraw: 'withdrawn' },
  'returned edit of a published item': { submit: 'submitted', recall: null, approve: null, return: null, withdraw: 'withdrawn' },
};

const CASES = STATES.flatMap((state) =>
  (['submit', 'recall', 'approve', 'return', 'withdraw'] as const).map((action) => ({ state, action, to: EXPECTED[state.name]?.[action] ?? null })),
);

describe('every transition', () => {
  let n = 0;
  it.each(CASES)('$state.name → $action gives $to', async ({ state, action, to }) => {
    const id = `c-tr-${++n}`;
    await create(id, 'beiji', '第一版');
    for (const s of state.steps) {
      if (s === 'edit') await edit(id, '第二版');
      else await step(id, s);
    }
    const before = await getItem(id);
    expect(before.status).toBe(state.status);
    expect(before.published !== null).toBe(state.published);

    const res = await act(id, action, actorFor(action), payloadFor(action));
    if (to === null) {
      expectError(res, 409, 'REVIEW_TRANSITION_INVALID', `${state.status} → ${action}`);
      expect(await getItem(id)).toEqual(before);
      return;
    }
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const after = res.body as unknown as ContentRecord;
    expect(after.status).toBe(to);
    expect(await getItem(id)).toEqual(after);
    // The working copy never changes by a review action.
    expect(bodyOf(after)).toBe(bodyOf(before));
    if (action === 'approve') {
      const { status: _s, published: _p, review: _r, ...version } = before;
      expect(after.published).toEqual(version);
    } else if (action === 'withdraw') {
      expect(after.published).toBeNull();
    } else {
      expect(after.published).toEqual(before.published);
    }
  });

  it('answers an unknown item with 404 for every action', async () => {
    for (const action of ['submit', 'recall', 'approve', 'return', 'withdraw'] as const) {
      expectError(await act('c-ghost', action, actorFor(action), payloadFor(action)), 404, 'NOT_FOUND');
    }
  });
});

describe('the review record', () => {
  it('returns an item only with a reason, keeps the reason, and clears it on approval of the fixed version', async () => {
    await create('c-ret');
    await step('c-ret', 'submit');
    expectError(await act('c-ret', 'return', reviewer), 400, 'VALIDATION_FAILED');
    expectError(await act('c-ret', 'return', reviewer, {}), 400, 'VALIDATION_FAILED');
    expectError(await act('c-ret', 'return', reviewer, { reason: '' }), 400, 'VALIDATION_FAILED');
    expectError(await act('c-ret', 'return', reviewer, { reason: '太短', extra: 1 }), 400, 'VALIDATION_FAILED');
    expect((await getItem('c-ret')).status).toBe('submitted');

    const returned = (await act('c-ret', 'return', reviewer, reason)).body as unknown as ContentRecord;
    expect(returned.status).toBe('returned');
    expect(returned.review).toMatchObject({ returnReason: reason.reason, reviewedBy: reviewer.user.id, submittedBy: editor.user.id });
    expect(typeof returned.review.submittedAt).toBe('string');

    await edit('c-ret', '已按意见修改');
    await step('c-ret', 'submit');
    const approved = await step('c-ret', 'approve');
    expect(approved).toMatchObject({ status: 'published', body: '已按意见修改' });
    expect(bodyOf(approved.published)).toBe('已按意见修改');
    expect(approved.review).toMatchObject({ returnReason: null, reviewedBy: reviewer.user.id });
    expect(Date.parse(approved.review.reviewedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
  });

  it('refuses approval by the author, the last editor and the submitter with 403 REVIEW_OWN_CONTENT, and lets another reviewer approve', async () => {
    // City admins may both write and review, so only the own-work rule stands between them and self-approval.
    const author = await t.addUser({ username: 'admin-author', role: 'city-admin', zoneId: 'binzhou' });
    const reviser = await t.addUser({ username: 'admin-reviser', role: 'city-admin', zoneId: 'binzhou' });
    const submitter = await t.addUser({ username: 'admin-submitter', role: 'city-admin', zoneId: 'binzhou' });
    await ok(author, 'POST', '/api/content', notice('c-own', 'binzhou', '初稿'));
    await ok(reviser, 'PUT', '/api/content/c-own', notice('c-own', 'binzhou', '修改稿'));
    expect((await act('c-own', 'submit', submitter)).status).toBe(200);
    expect((await getItem('c-own')).review).toMatchObject({ createdBy: author.user.id, updatedBy: reviser.user.id, submittedBy: submitter.user.id });
    for (const who of [author, reviser, submitter]) expectError(await act('c-own', 'approve', who), 403, 'REVIEW_OWN_CONTENT');
    expect((await getItem('c-own')).status).toBe('submitted');
    const res = await act('c-own', 'approve', cityReviewer);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'published', review: { reviewedBy: cityReviewer.user.id } });
  });

  it('records every action in the audit log with the records before and after', async () => {
    const from = seq;
    await create('c-audited');
    await step('c-audited', 'submit');
    await step('c-audited', 'recall');
    await step('c-audited', 'submit');
    await step('c-audited', 'return');
    await edit('c-audited', '修改');
    await step('c-audited', 'submit');
    await step('c-audited', 'approve');
    await step('c-audited', 'withdraw');
    const entries = [...audit.values()].filter((e) => e.seq > from && e.entityId === 'c-audited').sort((a, b) => a.seq - b.seq);
    expect(entries.map((e) => e.action)).toEqual([
      'content.create', 'content.submit', 'content.recall', 'content.submit', 'content.return', 'content.update', 'content.submit', 'content.approve', 'content.withdraw',
    ]);
    for (const e of entries) {
      expect(e).toMatchObject({ entity: 'content', zoneId: 'beiji' });
      const by = e.action === 'content.return' || e.action === 'content.approve' || e.action === 'content.withdraw' ? reviewer : editor;
      expect(e.actor, e.action).toMatchObject({ kind: 'staff', userId: by.user.id });
    }
    const approve = entries.find((e) => e.action === 'content.approve');
    expect(approve?.before).toMatchObject({ status: 'submitted', published: null });
    expect(approve?.after).toMatchObject({ status: 'published', published: { body: '修改' } });
    expect(entries.find((e) => e.action === 'content.return')?.detail).toBe(reason.reason);
    seq = Math.max(...audit.keys());
  });
});

describe('who may do what', () => {
  beforeAll(async () => {
    await create('c-roles');
    await create('c-roles-sub');
    await step('c-roles-sub', 'submit');
    await create('c-roles-pub');
    await step('c-roles-pub', 'submit');
    await step('c-roles-pub', 'approve');
  });

  it('lets a reviewer neither write nor submit nor recall', async () => {
    expectError(await call(reviewer, 'POST', '/api/content', notice('c-by-reviewer', 'beiji', 'x')), 403, 'FORBIDDEN_ROLE');
    expectError(await call(reviewer, 'PUT', '/api/content/c-roles', notice('c-roles', 'beiji', 'x')), 403, 'FORBIDDEN_ROLE');
    expectError(await call(reviewer, 'DELETE', '/api/content/c-roles'), 403, 'FORBIDDEN_ROLE');
    expectError(await act('c-roles', 'submit', reviewer), 403, 'FORBIDDEN_ROLE');
    expectError(await act('c-roles-sub', 'recall', reviewer), 403, 'FORBIDDEN_ROLE');
  });

  it('lets an editor neither approve nor return nor withdraw', async () => {
    expectError(await act('c-roles-sub', 'approve', editor2), 403, 'FORBIDDEN_ROLE');
    expectError(await act('c-roles-sub', 'return', editor2, reason), 403, 'FORBIDDEN_ROLE');
    expectError(await act('c-roles-pub', 'withdraw', editor2), 403, 'FORBIDDEN_ROLE');
    expect((await getItem('c-roles-sub')).status).toBe('submitted');
    expect((await getItem('c-roles-pub')).status).toBe('published');
  });

  it('lets an inspector read everything in its area, drafts included, and change nothing', async () => {
    expect((await call(inspector, 'GET', '/api/content/c-roles')).status).toBe(200);
    const listed = (await call(inspector, 'GET', '/api/content?status=submitted')).body as unknown as ContentRecord[];
    expect(listed.map((c) => c.id)).toContain('c-roles-sub');
    expectError(await call(inspector, 'POST', '/api/content', notice('c-by-inspector', 'beiji', 'x')), 403, 'FORBIDDEN_ROLE');
    expectError(await call(inspector, 'PUT', '/api/content/c-roles', notice('c-roles', 'beiji', 'x')), 403, 'FORBIDDEN_ROLE');
    expectError(await call(inspector, 'DELETE', '/api/content/c-roles'), 403, 'FORBIDDEN_ROLE');
    for (const [id, action] of [['c-roles', 'submit'], ['c-roles-sub', 'recall'], ['c-roles-sub', 'approve'], ['c-roles-sub', 'return'], ['c-roles-pub', 'withdraw']] as const) {
      expectError(await act(id, action, inspector, payloadFor(action)), 403, 'FORBIDDEN_ROLE');
    }
    expect((await getItem('c-roles-sub')).status).toBe('submitted');
  });

  it('keeps each town’s staff to their own town: 403 FORBIDDEN_SCOPE elsewhere', async () => {
    expectError(await act('c-roles', 'submit', otherTownEditor), 403, 'FORBIDDEN_SCOPE');
    expectError(await act('c-roles-sub', 'approve', otherTownReviewer), 403, 'FORBIDDEN_SCOPE');
    expectError(await act('c-roles-pub', 'withdraw', otherTownReviewer), 403, 'FORBIDDEN_SCOPE');
    expectError(await call(otherTownEditor, 'PUT', '/api/content/c-roles', notice('c-roles', 'chengguan', 'x')), 403, 'FORBIDDEN_SCOPE');
    // A city reviewer's subtree holds every town.
    expect((await act('c-roles-sub', 'approve', cityReviewer)).status).toBe(200);
  });
});

describe('reading across zones', () => {
  beforeAll(async () => {
    await ok(cityEditor, 'POST', '/api/content', notice('c-city-draft', 'binzhou', '市级草稿'));
    await ok(cityEditor, 'POST', '/api/content', notice('c-city-pub', 'binzhou', '市级公示'));
    await must(act('c-city-pub', 'submit', cityEditor));
    await must(act('c-city-pub', 'approve', cityReviewer));
    await ok(otherTownEditor, 'POST', '/api/content', notice('c-cg-draft', 'chengguan', '城关草稿'));
    await ok(otherTownEditor, 'POST', '/api/content', notice('c-cg-pub', 'chengguan', '城关公示'));
    await must(act('c-cg-pub', 'submit', otherTownEditor));
    await must(act('c-cg-pub', 'approve', otherTownReviewer));
    await create('c-beiji-draft');
    await create('c-potou-draft', 'potou');
  });

  it('shows a town editor its own subtree in every status and the city’s published items, never another town’s', async () => {
    const listed = ((await call(editor, 'GET', '/api/content')).body as unknown as ContentRecord[]).map((c) => c.id);
    expect(listed).toEqual(expect.arrayContaining(['c-beiji-draft', 'c-potou-draft', 'c-city-pub', 'c-notice-dibao', 'c-affairs-potou-finance']));
    for (const hidden of ['c-city-draft', 'c-cg-draft', 'c-cg-pub', 'c-notice-renovation']) expect(listed, hidden).not.toContain(hidden);

    expect((await call(editor, 'GET', '/api/content/c-city-pub')).status).toBe(200);
    expect((await call(editor, 'GET', '/api/content/c-potou-draft')).status).toBe(200);
    for (const id of ['c-city-draft', 'c-cg-draft', 'c-cg-pub']) expectError(await call(editor, 'GET', `/api/content/${id}`), 403, 'FORBIDDEN_SCOPE');
  });

  it('shows readers from below only the published version of a parent zone’s item, not its pending edit', async () => {
    await ok(cityEditor, 'PUT', '/api/content/c-city-pub', { ...notice('c-city-pub', 'binzhou', '市级公示'), body: '尚未审核的修改稿' });
    const seen = (await call(editor, 'GET', '/api/content/c-city-pub')).body as unknown as ContentRecord;
    expect(seen.status).toBe('published');
    expect(JSON.stringify(seen)).not.toContain('尚未审核的修改稿');
    const listed = ((await call(editor, 'GET', '/api/content')).body as unknown as ContentRecord[]).find((c) => c.id === 'c-city-pub');
    expect(JSON.stringify(listed)).not.toContain('尚未审核的修改稿');
    // The city's own staff see the draft.
    expect(((await call(cityEditor, 'GET', '/api/content/c-city-pub')).body as unknown as ContentRecord).status).toBe('draft');
  });

  it('filters the list by status, kind and zone', async () => {
    const ids = async (as: TestUser, query: string) => ((await call(as, 'GET', `/api/content?${query}`)).body as unknown as ContentRecord[]).map((c) => c.id);
    const drafts = await ids(editor, 'status=draft');
    expect(drafts).toEqual(expect.arrayContaining(['c-beiji-draft', 'c-potou-draft']));
    expect(drafts).not.toContain('c-city-draft');
    const stored = t.app.store.read().content;
    for (const id of drafts) expect(stored.find((c) => c.id === id)?.status, id).toBe('draft');
    expect(await ids(t.admin, 'status=draft&zoneId=chengguan')).toEqual(['c-cg-draft']);
    expect(await ids(otherTownEditor, 'status=published&zoneId=binzhou&kind=notice')).toEqual(
      stored.filter((c) => c.status === 'published' && c.zoneId === 'binzhou' && c.kind === 'notice').map((c) => c.id),
    );
    expect(await ids(otherTownEditor, 'zoneId=binzhou')).not.toContain('c-city-draft');
  });
});

describe('what screens show', () => {
  let socket: ScreenSocket;
  let pushes: { version: string; manifest: Manifest }[];
  const settle = async () => {
    await t.api('GET', '/api/health');
    await new Promise((r) => setTimeout(r, 300));
  };
  const token = (id: string) => t.demo.find((s) => s.id === id)?.token ?? '';

  beforeAll(async () => {
    await t.listen();
    socket = connectScreen(t.url, token('scr-beiji'));
    pushes = record(socket, 'manifest:changed');
    await once(socket, 'screen:welcome');
  });
  afterAll(() => {
    socket.disconnect();
  });

  it('never shows a draft, a submitted or a returned item', async () => {
    pushes.length = 0;
    await create('c-unseen');
    await step('c-unseen', 'submit');
    await step('c-unseen', 'return');
    await settle();
    expect(pushes).toEqual([]);
    expect((await manifestOf('scr-beiji')).items['c-unseen']).toBeUndefined();
  });

  it('pushes an approved item at once to the screens it targets', async () => {
    await create('c-shown', 'beiji', '第一版公示');
    await step('c-shown', 'submit');
    pushes.length = 0;
    const pushed = once(socket, 'manifest:changed');
    await step('c-shown', 'approve');
    expect(bodyOf((await pushed).manifest.items['c-shown'])).toBe('第一版公示');
    expect(bodyOf((await manifestOf('scr-potou')).items['c-shown'])).toBe('第一版公示');
    expect((await manifestOf('scr-chengguan')).items['c-shown']).toBeUndefined();
  });

  it('keeps showing the published version while an edit is drafted and reviewed, then the new one once approved', async () => {
    const shown = await manifestOf('scr-beiji');
    pushes.length = 0;
    await edit('c-shown', '第二版公示');
    await step('c-shown', 'submit');
    await settle();
    expect(pushes).toEqual([]);
    const during = await manifestOf('scr-beiji');
    expect(during.version).toBe(shown.version);
    expect(bodyOf(during.items['c-shown'])).toBe('第一版公示');
    // Returned, the edit still does not reach the screen; resubmitted and approved, it does.
    await step('c-shown', 'return');
    await edit('c-shown', '第三版公示');
    await step('c-shown', 'submit');
    await settle();
    expect(pushes).toEqual([]);
    expect(bodyOf((await manifestOf('scr-beiji')).items['c-shown'])).toBe('第一版公示');

    const pushed = once(socket, 'manifest:changed');
    await step('c-shown', 'approve');
    const push = await pushed;
    expect(bodyOf(push.manifest.items['c-shown'])).toBe('第三版公示');
    expect(push.version).toBe((await manifestOf('scr-beiji')).version);
  });

  it('removes a withdrawn item from screens at once, and shows it again only after a new approval', async () => {
    pushes.length = 0;
    const gone = once(socket, 'manifest:changed');
    await step('c-shown', 'withdraw');
    expect((await gone).manifest.items['c-shown']).toBeUndefined();
    expect((await manifestOf('scr-potou')).items['c-shown']).toBeUndefined();

    await step('c-shown', 'submit');
    await settle();
    expect(pushes).toHaveLength(1);
    const back = once(socket, 'manifest:changed');
    await step('c-shown', 'approve');
    expect(bodyOf((await back).manifest.items['c-shown'])).toBe('第三版公示');
  });
});
