import { describe, expect, it } from 'vitest';
import { NO_LINE_END, NO_LINE_START, breakLines, breakUnits, pageAt, paginate } from '../../content/index.js';

/** A monospace measure: every character is one unit wide, as CJK glyphs nearly are. */
const mono = (s: string) => [...s].length;

const RULE_STARTS = '，。、；：？！）》」';
const RULE_ENDS = '（《「';

function assertKinsoku(lines: string[]) {
  for (const l of lines.slice(1)) expect(RULE_STARTS.includes(l[0] ?? ''), `line starts with ${l[0]}: ${l}`).toBe(false);
  for (const l of lines.slice(0, -1)) expect(RULE_ENDS.includes(l.slice(-1)), `line ends with ${l.slice(-1)}: ${l}`).toBe(false);
}

describe('禁则 line breaking', () => {
  it('covers the required characters', () => {
    for (const c of RULE_STARTS) expect(NO_LINE_START).toContain(c);
    for (const c of RULE_ENDS) expect(NO_LINE_END).toContain(c);
  });

  it('never starts a line with closing punctuation: the previous character comes along', () => {
    // Width 6: a greedy break would put "。" first on line 2.
    const lines = breakLines('政务公开专区。欢迎您', 6, mono);
    expect(lines).toEqual(['政务公开专', '区。欢迎您']);
    assertKinsoku(lines);
    expect(lines.join('')).toBe('政务公开专区。欢迎您');
  });

  it('moves a line-ending opening bracket to the next line', () => {
    const lines = breakLines('请查阅《彬州市政务公开专区标准化规范化建设工作方案》全文', 4, mono);
    assertKinsoku(lines);
    expect(lines.join('')).toBe('请查阅《彬州市政务公开专区标准化规范化建设工作方案》全文');
    expect(lines.every((l) => mono(l) <= 4 || RULE_STARTS.includes(l.slice(-1)))).toBe(true);
  });

  it('keeps every rule at every width on real policy text', () => {
    const text =
      '根据《中华人民共和国政府信息公开条例》(以下简称《条例》),现将有关事项通知如下:一、公开范围。二、公开方式;三、监督保障!请各镇(街道)认真贯彻落实,确保2026年12月31日前完成。';
    for (let w = 3; w <= 30; w++) {
      const lines = breakLines(text, w, mono);
      assertKinsoku(lines);
      expect(lines.join(''), `width ${w}`).toBe(text);
    }
  });

  it('keeps Latin words and numbers whole and breaks at spaces', () => {
    expect(breakUnits('拨打12345热线 call now')).toEqual(['拨', '打', '12345', '热', '线', ' ', 'call', ' ', 'now']);
    const lines = breakLines('hotline 12345 please', 8, mono);
    expect(lines).toEqual(['hotline', '12345', 'please']);
  });

  it('keeps paragraphs and empty lines', () => {
    expect(breakLines('第一段\n\n第二段', 10, mono)).toEqual(['第一段', '', '第二段']);
  });
});

describe('pagination', () => {
  it('splits lines into pages and shares the slot among them', () => {
    const pages = paginate(['a', 'b', 'c', 'd', 'e'], 2);
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(pageAt(1000, 30_000, 3, 1000)).toBe(0);
    expect(pageAt(1000, 30_000, 3, 11_000)).toBe(1);
    expect(pageAt(1000, 30_000, 3, 30_999)).toBe(2);
    expect(pageAt(1000, 30_000, 3, 99_999)).toBe(2);
    expect(paginate([], 3)).toEqual([[]]);
  });
});
