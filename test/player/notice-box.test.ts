import { describe, expect, it } from 'vitest';
import { noticePictureBox } from '../../player/src/renderer/items/notice-box.js';

describe('a notice’s picture in its region', () => {
  it('goes beside the text in a wide region and below it in a tall one, inside the region', () => {
    for (const [w, h] of [[1190, 1010], [730, 1010], [1920, 540], [400, 900]] as const) {
      const b = noticePictureBox(w, h, 20);
      expect(b.side).toBe(w >= h * 1.2 ? 'right' : 'below');
      expect(b.picture.x + b.picture.width).toBeLessThanOrEqual(w);
      expect(b.picture.y + b.picture.height).toBeLessThanOrEqual(h);
      if (b.side === 'right') expect(b.text.width).toBeLessThanOrEqual(b.picture.x);
      else expect(b.text.height).toBeLessThanOrEqual(b.picture.y);
      // The text keeps most of the region.
      expect(b.text.width * b.text.height).toBeGreaterThan(w * h * 0.5);
    }
  });
});
