import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/process.js';

/**
 * Every word the composer shows goes through the message tables (composer/src/i18n/), so that
 * the English switch leaves no Chinese behind and the other way round. A plain scan, not a
 * parser: Chinese characters anywhere in composer/src outside i18n/ (comments aside), and
 * English words as template text or in static text attributes, fail with the file and line.
 */

const SRC = path.join(repoRoot, 'composer/src');
/** Chinese characters and full-width punctuation. */
const CJK = /[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]/;
/** A word of two or more Latin letters. */
const WORD = /[A-Za-z]{2,}/;
/** Static attributes whose value is read or shown to people. */
const TEXT_ATTRS = new Set(['placeholder', 'title', 'label', 'aria-label', 'alt', 'content', 'description', 'sub-title', 'text', 'confirm-button-text', 'cancel-button-text']);

/** Text that is the same in every language, with why. */
const ALLOWED: readonly { readonly file: string; readonly text: string; readonly why: string }[] = [
  { file: 'components/LanguageSwitch.vue', text: '中文', why: 'each language is named in itself, so someone stuck in the wrong one finds theirs' },
  { file: 'components/LanguageSwitch.vue', text: 'English', why: 'as above' },
  { file: 'components/LanguageSwitch.vue', text: 'Language / 语言', why: 'as above' },
  { file: 'components/AppShell.vue', text: 'ZoneCast', why: 'the product name' },
  { file: 'components/library/ContentForm.vue', text: 'https://', why: 'a URL scheme, the same in every language' },
];
/** Unit symbols, the same in both languages. */
const UNITS = new Set(['mm', 'px']);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return full === path.join(SRC, 'i18n') ? [] : files(full);
    return /\.(vue|ts)$/.test(e.name) ? [full] : [];
  });
}

/** Blanks out comments, keeping line breaks so that line numbers stay right. */
function withoutComments(text: string): string {
  const blank = (m: string) => m.replace(/[^\n]/g, ' ');
  return text
    .replace(/<!--[\s\S]*?-->/g, blank)
    .replace(/\/\*[\s\S]*?\*\//g, blank)
    .replace(/(^|[^:'"`\\])\/\/[^\n]*/g, (m, pre: string) => pre + blank(m.slice(pre.length)));
}

const lineAt = (text: string, index: number) => text.slice(0, index).split('\n').length;

interface Finding {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** Text nodes and static attributes of a template, walking tags with their quoted values. */
function templateText(source: string, start: number, end: number): { index: number; text: string; attr: string | null }[] {
  const out: { index: number; text: string; attr: string | null }[] = [];
  let i = start;
  let textStart = start;
  const flush = (to: number) => {
    const raw = source.slice(textStart, to);
    const text = raw.replace(/\{\{[\s\S]*?\}\}/g, (m) => ' '.repeat(m.length));
    if (text.trim()) out.push({ index: textStart + (text.length - text.trimStart().length), text: text.trim(), attr: null });
  };
  while (i < end) {
    if (source[i] === '{' && source[i + 1] === '{') {
      const close = source.indexOf('}}', i);
      i = close < 0 ? end : close + 2;
      continue;
    }
    if (source[i] !== '<') {
      i++;
      continue;
    }
    flush(i);
    // A tag: read up to its closing '>' outside quotes, collecting name="value" pairs.
    let j = i + 1;
    let quote: string | null = null;
    let valueStart = -1;
    let name = '';
    let nameStart = j;
    while (j < end) {
      const c = source[j];
      if (quote) {
        if (c === quote) {
          if (!name.startsWith(':') && !name.startsWith('@') && !name.startsWith('v-') && !name.startsWith('#') && TEXT_ATTRS.has(name)) {
            out.push({ index: valueStart, text: source.slice(valueStart, j), attr: name });
          }
          quote = null;
        }
      } else if (c === '"' || c === "'") {
        quote = c;
        valueStart = j + 1;
        name = source.slice(nameStart, j - 1).trim();
      } else if (c === '>') break;
      else if (/\s/.test(c ?? '')) nameStart = j + 1;
      j++;
    }
    i = j + 1;
    textStart = i;
  }
  flush(end);
  return out;
}

function scan(file: string): Finding[] {
  const rel = path.relative(SRC, file).split(path.sep).join('/');
  const source = withoutComments(readFileSync(file, 'utf8'));
  const allowed = ALLOWED.filter((a) => a.file === rel).map((a) => a.text);
  const findings: Finding[] = [];
  const lines = source.split('\n');
  lines.forEach((line, i) => {
    if (!CJK.test(line)) return;
    const rest = allowed.reduce((l, a) => l.split(a).join(''), line);
    if (CJK.test(rest)) findings.push({ file: rel, line: i + 1, text: line.trim() });
  });
  if (file.endsWith('.vue')) {
    const open = source.search(/<template>/);
    const close = source.lastIndexOf('</template>');
    if (open >= 0 && close > open) {
      for (const piece of templateText(source, open + '<template>'.length, close)) {
        if (CJK.test(piece.text) || allowed.includes(piece.text)) continue; // Chinese is reported above.
        const words = (piece.text.match(/[A-Za-z]+/g) ?? []).filter((w) => !UNITS.has(w));
        if (words.some((w) => WORD.test(w))) findings.push({ file: rel, line: lineAt(source, piece.index), text: piece.attr ? `${piece.attr}="${piece.text}"` : piece.text });
      }
    }
  }
  return findings;
}

describe('composer text goes through the message tables', () => {
  it('has no Chinese or English literal text outside composer/src/i18n/', () => {
    const found = files(SRC).flatMap(scan);
    expect(found.map((f) => `composer/src/${f.file}:${f.line}: ${f.text}`)).toEqual([]);
  });

  it('catches literal text (the scan itself works)', () => {
    const sample = '<template>\n  <el-button title="Save now">\n    保存\n  </el-button>\n  <span>{{ t(\'x\') }} Total</span>\n  <b :title="t(\'y\')">{{ n }} mm</b>\n</template>';
    const pieces = templateText(sample, '<template>'.length, sample.lastIndexOf('</template>'));
    expect(pieces.map((p) => [p.attr, p.text, lineAt(sample, p.index)])).toEqual([
      ['title', 'Save now', 2],
      [null, '保存', 3],
      [null, 'Total', 5],
      [null, 'mm', 6],
    ]);
  });
});
