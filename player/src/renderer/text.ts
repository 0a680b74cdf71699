import { breakLines } from '../../../content/index.js';
import { fontString } from './fonts.js';

const ctx = document.createElement('canvas').getContext('2d');

/** Width of `s` in the bundled font at `px`, as the browser's font engine lays it out. */
export function measurer(px: number, weight: 400 | 700 = 400): (s: string) => number {
  const font = fontString(px, weight);
  const cache = new Map<string, number>();
  return (s: string) => {
    let w = cache.get(s);
    if (w === undefined) {
      if (!ctx) return s.length * px;
      ctx.font = font;
      w = ctx.measureText(s).width;
      if (cache.size < 5000) cache.set(s, w);
    }
    return w;
  };
}

/** Lines of `text` broken by the 禁则 rules to fit `width` at `px`. */
export function wrap(text: string, width: number, px: number, weight: 400 | 700 = 400): string[] {
  return breakLines(text, width, measurer(px, weight));
}

/** Cuts a single line to fit `width`, with an ellipsis when it had to cut. */
export function ellipsize(text: string, width: number, px: number, weight: 400 | 700 = 400): string {
  const m = measurer(px, weight);
  if (m(text) <= width) return text;
  const chars = [...text];
  while (chars.length > 0 && m(chars.join('') + '…') > width) chars.pop();
  return chars.join('') + '…';
}
