import { diffChars, diffLines } from 'diff';
import type { ContentRecord } from '../../../content/index.js';

/** Bookkeeping fields of a record that are not part of what a reviewer approves. */
const META = new Set(['id', 'createdAt', 'updatedAt', 'status', 'published', 'review']);

/** One field that differs between the published version and the working copy under review. */
export interface FieldChange {
  /** Dotted path of the field, e.g. `title` or `interpretation.body`. */
  readonly path: string;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly before: string | null;
  readonly after: string | null;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Flattens an item into display text per field: nested objects become dotted fields, a list of
 * values one line per value, a list of rows one line per row with its cells joined by " | ",
 * so that a line diff shows which step or which table row changed.
 */
export function flattenFields(item: Readonly<Record<string, unknown>>, prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const [key, value] of Object.entries(item)) {
    if (!prefix && META.has(key)) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(value)) {
      out.set(path, value.map((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.values(v).map(cell).join(' | ') : cell(v))).join('\n'));
    } else if (value !== null && typeof value === 'object') {
      flattenFields(value as Record<string, unknown>, path, out);
    } else {
      out.set(path, cell(value));
    }
  }
  return out;
}

/**
 * What changed since the published version, field by field. A first submission (nothing
 * published) shows every field as added.
 */
export function recordChanges(record: ContentRecord): FieldChange[] {
  const after = flattenFields(record);
  if (!record.published) return [...after].map(([path, text]) => ({ path, kind: 'added', before: null, after: text }));
  const before = flattenFields(record.published);
  const changes: FieldChange[] = [];
  for (const [path, text] of after) {
    const old = before.get(path);
    if (old === undefined) changes.push({ path, kind: 'added', before: null, after: text });
    else if (old !== text) changes.push({ path, kind: 'changed', before: old, after: text });
  }
  for (const [path, text] of before) if (!after.has(path)) changes.push({ path, kind: 'removed', before: text, after: null });
  return changes;
}

export interface DiffPart {
  readonly text: string;
  /** True for the characters this side removed or added. */
  readonly changed: boolean;
}

export type DiffLine = { readonly kind: 'same' | 'del' | 'add'; readonly parts: DiffPart[] } | { readonly kind: 'gap'; readonly count: number };

/** Above this many characters in a changed block, lines are marked whole instead of by character. */
const CHAR_DIFF_LIMIT = 4000;

function splitLines(parts: readonly DiffPart[]): DiffPart[][] {
  const lines: DiffPart[][] = [[]];
  for (const part of parts) {
    const pieces = part.text.split('\n');
    pieces.forEach((piece, i) => {
      if (i > 0) lines.push([]);
      if (piece) lines[lines.length - 1]!.push({ text: piece, changed: part.changed });
    });
  }
  return lines;
}

const trimEol = (s: string) => (s.endsWith('\n') ? s.slice(0, -1) : s);

/**
 * A line diff of two texts, with the characters that changed inside a replaced block marked
 * (Chinese has no spaces, so words are no help). Unchanged runs longer than `context` lines
 * either side of a change collapse into a gap.
 */
export function textDiff(before: string, after: string, context = 3): DiffLine[] {
  const lines: DiffLine[] = [];
  const hunks = diffLines(before, after);
  for (let i = 0; i < hunks.length; i++) {
    const hunk = hunks[i]!;
    const next = hunks[i + 1];
    if (hunk.removed && next?.added) {
      const oldText = trimEol(hunk.value);
      const newText = trimEol(next.value);
      const chars = oldText.length + newText.length <= CHAR_DIFF_LIMIT ? diffChars(oldText, newText) : undefined;
      const del = chars ? chars.filter((c) => !c.added).map((c) => ({ text: c.value, changed: c.removed })) : [{ text: oldText, changed: true }];
      const add = chars ? chars.filter((c) => !c.removed).map((c) => ({ text: c.value, changed: c.added })) : [{ text: newText, changed: true }];
      for (const parts of splitLines(del)) lines.push({ kind: 'del', parts });
      for (const parts of splitLines(add)) lines.push({ kind: 'add', parts });
      i++;
      continue;
    }
    const kind = hunk.added ? 'add' : hunk.removed ? 'del' : 'same';
    for (const parts of splitLines([{ text: trimEol(hunk.value), changed: kind !== 'same' }])) lines.push({ kind, parts });
  }
  return collapse(lines, context);
}

function collapse(lines: DiffLine[], context: number): DiffLine[] {
  const near = lines.map(() => false);
  lines.forEach((line, i) => {
    if (line.kind === 'same') return;
    for (let j = Math.max(0, i - context); j <= Math.min(lines.length - 1, i + context); j++) near[j] = true;
  });
  const out: DiffLine[] = [];
  let hidden = 0;
  lines.forEach((line, i) => {
    if (line.kind !== 'same' || near[i]) {
      if (hidden) out.push({ kind: 'gap', count: hidden });
      hidden = 0;
      out.push(line);
    } else hidden++;
  });
  if (hidden) out.push({ kind: 'gap', count: hidden });
  return out;
}
