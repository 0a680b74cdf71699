/**
 * Chinese line breaking (禁则) and pagination, shared by the player and the composer's preview so
 * that a page break falls in the same place on every screen. The caller supplies `measure`, the
 * width of a string in the bundled font; everything else here is pure.
 */

/** Characters that may not begin a line: closing punctuation and marks that attach to the left. */
export const NO_LINE_START = '，。、；：？！）》」』】〕〉”’…‥・·％‰℃,.;:?!)]}%';

/** Characters that may not end a line: opening brackets and quotes that attach to the right. */
export const NO_LINE_END = '（《「『【〔〈“‘([{';

const isLatin = (c: string) => /[A-Za-z0-9@#&_\-+/.,'’:%$€¥]/.test(c);

/** Splits a paragraph into break units: each CJK character alone, Latin words and numbers whole, spaces alone. */
export function breakUnits(paragraph: string): string[] {
  const units: string[] = [];
  let word = '';
  for (const ch of paragraph) {
    if (ch !== ' ' && isLatin(ch) && !(word === '' && NO_LINE_START.includes(ch))) {
      word += ch;
      continue;
    }
    if (word) {
      units.push(word);
      word = '';
    }
    units.push(ch);
  }
  if (word) units.push(word);
  return units;
}

/**
 * Breaks text into lines no wider than `maxWidth`, greedily, then moves characters across each
 * break so that no line starts with a NO_LINE_START character or ends with a NO_LINE_END one.
 * When a rule cannot be kept without emptying a line, the punctuation hangs past the margin.
 */
export function breakLines(text: string, maxWidth: number, measure: (s: string) => number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.replace(/\r\n?/g, '\n').split('\n')) {
    const units = breakUnits(paragraph);
    if (units.length === 0) {
      lines.push('');
      continue;
    }
    let line: string[] = [];
    for (const unit of units) {
      if (line.length > 0 && unit !== ' ' && measure(line.join('') + unit) > maxWidth) {
        // Break at the latest position k where the next line does not start with a closing
        // mark and this line does not end with an opening one.
        let k = line.length;
        const first = (j: number) => ((j < line.length ? line[j] : unit) ?? '')[0] ?? '';
        const last = (j: number) => (line[j - 1] ?? '').slice(-1);
        while (k >= 1 && (NO_LINE_START.includes(first(k)) || NO_LINE_END.includes(last(k)))) k--;
        if (k >= 1) {
          lines.push(line.slice(0, k).join('').trimEnd());
          line = line.slice(k);
          while (line[0] === ' ') line.shift();
        }
        // k = 0: no legal break; the unit hangs past the margin.
      }
      if (line.length === 0 && unit === ' ') continue;
      line.push(unit);
    }
    lines.push(line.join('').trimEnd());
  }
  return lines;
}

/** Splits lines into pages of at most `linesPerPage` lines (at least one line a page). */
export function paginate(lines: readonly string[], linesPerPage: number): string[][] {
  const per = Math.max(1, Math.floor(linesPerPage));
  const pages: string[][] = [];
  for (let i = 0; i < lines.length; i += per) pages.push(lines.slice(i, i + per));
  return pages.length > 0 ? pages : [[]];
}

/** Which page of `pages` shows at `t` when a slot from `slotStart` of `slotMs` is shared equally. */
export function pageAt(slotStart: number, slotMs: number, pages: number, t: number): number {
  if (pages <= 1 || slotMs <= 0) return 0;
  const i = Math.floor(((t - slotStart) / slotMs) * pages);
  return Math.min(pages - 1, Math.max(0, i));
}
