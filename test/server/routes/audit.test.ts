import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, Role, Zone } from '../../../content/index.js';
import { recordAudit } from '../../../server/services/audit.js';
import { buildTestApp, type TestApp } from '../../helpers/app.js';

const zone = (id: string, tier: Zone['tier'], parentId: string | null, divisionCode: string): Zone => ({ id, tier, parentId, divisionCode, shortName: id, name: '' });

describe('GET /api/audit', () => {
  let t: TestApp;
  let dir: string;
  const cookies = new Map<string, string>();
  /** An account with a live session; returns its cookie. */
  const addUser = async (username: string, role: Role, zoneId: string | null) => (await t.addUser({ username, role, zoneId })).cookie;

  async function get(url: string, as: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const cookie = cookies.get(as);
    const res = await t.app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
  }
  const seqsOf = (body: Record<string, unknown>): number[] => (body.entries as AuditEntry[]).map((e) => e.seq);

  beforeEach(async () => {
    t = await buildTestApp();
    dir = t.dataDir;
    await t.app.store.write((d) => {
      d.zones.push(zone('z-city', 'city', null, '371600000000'), zone('z-a', 'town', 'z-city', '371602001000'), zone('z-a1', 'village', 'z-a', '371602001001'), zone('z-b', 'town', 'z-city', '371602002000'));
    });
    cookies.set('system', await addUser('sysadmin', 'city-admin', null));
    cookies.set('city', await addUser('city-inspector', 'inspector', 'z-city'));
    cookies.set('town', await addUser('town-inspector', 'inspector', 'z-a'));
    cookies.set('editor', await addUser('town-editor', 'editor', 'z-a'));
    // seq 1 z-a, 2 z-a1, 3 z-b, 4 a system event.
    for (const zoneId of ['z-a', 'z-a1', 'z-b', null]) {
      await t.app.store.write((d) =>
        recordAudit(d, { actor: { kind: 'staff', userId: 'u-town-editor', username: 'town-editor' }, action: 'content.update', entity: 'content', entityId: `c-${zoneId}`, zoneId, after: { title: 't' } }),
      );
    }
    await t.app.audit.flush();
  });
  afterEach(async () => {
    await t.close();
    cookies.clear();
  });

  it('shows a town inspector only the entries of their own subtree', async () => {
    const r = await get('/api/audit', 'town');
    expect(r.status).toBe(200);
    expect(seqsOf(r.body)).toEqual([2, 1]);
    expect(r.body.nextBeforeSeq).toBeNull();
  });

  it('shows city-level users everything, system events included', async () => {
    expect(seqsOf((await get('/api/audit', 'city')).body)).toEqual([4, 3, 2, 1]);
    expect(seqsOf((await get('/api/audit', 'system')).body)).toEqual([4, 3, 2, 1]);
  });

  it('filters and pages through the query string', async () => {
    expect(seqsOf((await get('/api/audit?zoneId=z-a1', 'city')).body)).toEqual([2]);
    expect(seqsOf((await get('/api/audit?userId=u-town-editor&entity=content', 'system')).body)).toEqual([4, 3, 2, 1]);
    const first = await get('/api/audit?limit=3', 'system');
    expect(seqsOf(first.body)).toEqual([4, 3, 2]);
    expect(first.body.nextBeforeSeq).toBe(2);
    expect(seqsOf((await get('/api/audit?limit=3&beforeSeq=2', 'system')).body)).toEqual([1]);
  });

  it('refuses zones outside the caller’s scope, roles without audit:read, and anonymous callers', async () => {
    expect(await get('/api/audit?zoneId=z-b', 'town')).toMatchObject({ status: 403, body: { code: 'FORBIDDEN_SCOPE' } });
    expect(await get('/api/audit', 'editor')).toMatchObject({ status: 403, body: { code: 'FORBIDDEN_ROLE' } });
    expect((await get('/api/audit', 'nobody')).status).toBe(401);
  });

  it('validates the time range', async () => {
    expect((await get('/api/audit?from=yesterday', 'system')).status).toBe(400);
    expect(await get('/api/audit?from=2025-03-01T00:00:00Z&to=2025-02-01T00:00:00Z', 'system')).toMatchObject({ status: 422, body: { code: 'AUDIT_RANGE_INVALID' } });
  });

  it('GET /api/audit/verify reports an intact log, then a tampered one', async () => {
    expect(await get('/api/audit/verify', 'city')).toMatchObject({ status: 200, body: { ok: true, entries: 4, problems: [] } });
    // Every month file, in case the entries straddle a month's end.
    for (const name of (await readdir(path.join(dir, 'audit'))).filter((n) => n.endsWith('.jsonl'))) {
      const file = path.join(dir, 'audit', name);
      await writeFile(file, (await readFile(file, 'utf8')).replace('"title":"t"', '"title":"x"'));
    }
    const r = await get('/api/audit/verify', 'city');
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(false);
    expect((r.body.problems as { code: string }[]).map((p) => p.code)).toContain('HASH_MISMATCH');
  });
});
