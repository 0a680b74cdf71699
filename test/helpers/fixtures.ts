import type { ContentRecord } from '../../content/index.js';
import type { TestApp, TestUser } from './app.js';

/** Fields every test item shares; an item reaches screens only once it is published. */
export const itemBase = { validFrom: null, validTo: null, durationS: null } as const;

/** A text item owned by `zoneId`, as an editor sends it. */
export const textItem = (id: string, body: string, zoneId = 'city') => ({ ...itemBase, id, kind: 'text', zoneId, title: id, body, align: 'left' });

/** Two people, because an author may not approve their own work: one writes, the other approves. */
export interface Publishers {
  readonly editor: TestUser;
  readonly reviewer: TestUser;
}

const made = new WeakMap<TestApp, Map<string, Promise<Publishers>>>();

/** An editor and a reviewer bound to `zoneId` (usually the test's city), made once per app and zone. */
export function publishers(t: TestApp, zoneId: string): Promise<Publishers> {
  let byZone = made.get(t);
  if (!byZone) made.set(t, (byZone = new Map()));
  let who = byZone.get(zoneId);
  if (!who) {
    who = (async () => ({
      editor: await t.addUser({ username: `editor-${zoneId}`, role: 'editor', zoneId }),
      reviewer: await t.addUser({ username: `reviewer-${zoneId}`, role: 'reviewer', zoneId }),
    }))();
    byZone.set(zoneId, who);
  }
  return who;
}

/** Submits an item as the editor and approves it as the reviewer, through the API. */
export async function submitAndApprove(t: TestApp, id: string, who: Publishers): Promise<ContentRecord> {
  await t.api('POST', `/api/content/${id}/submit`, undefined, who.editor);
  return (await t.api('POST', `/api/content/${id}/approve`, undefined, who.reviewer)) as unknown as ContentRecord;
}

/** Creates an item as the editor, submits it and approves it as the reviewer: it reaches screens. */
export async function publishContent(t: TestApp, input: object, who: Publishers): Promise<ContentRecord> {
  const created = await t.api('POST', '/api/content', input, who.editor);
  return submitAndApprove(t, created.id as string, who);
}

/** Replaces an item's working copy as the editor, then submits and approves the edit: it reaches screens. */
export async function republishContent(t: TestApp, id: string, input: object, who: Publishers): Promise<ContentRecord> {
  await t.api('PUT', `/api/content/${id}`, input, who.editor);
  return submitAndApprove(t, id, who);
}
