import { describe, expect, it } from 'vitest';
import { legibleCharHeightPx } from '../../content/index.js';
import { typeScale } from '../../player/src/renderer/theme.js';

describe('type sizes', () => {
  it('never sets text below the legible height for the screen, in any region', () => {
    for (const [distance, pitch] of [[8, 2.5], [10, 4], [3, 1.2], [20, 6]] as const) {
      const min = legibleCharHeightPx(distance, pitch);
      for (const h of [24, 54, 120, 330, 700, 1080]) {
        const s = typeScale(h, distance, pitch);
        expect(s.small, `${distance} m, P${pitch}, ${h} px`).toBeGreaterThanOrEqual(min);
        expect(s.body).toBeGreaterThanOrEqual(min);
        expect(s.title).toBeGreaterThanOrEqual(s.body);
        expect(s.lineHeight).toBeGreaterThan(s.body);
      }
    }
  });

  it('takes the millimetres-per-metre factor from configuration', () => {
    expect(typeScale(100, 10, 4, 8.3).small).toBe(21);
    expect(typeScale(100, 10, 4, 12).small).toBe(30);
  });
});
