import { describe, expect, it } from 'vitest';
import { legibleCharHeightPx, regionLegibility, regionTypeScale } from '../../content/index.js';

/** 北极镇's wall: 4 mm pitch read from 10 m, so a legible character is ⌈10 × 8.3 ÷ 4⌉ = 21 px. */
const beiji = { pixelPitchMm: 4, viewingDistanceM: 10 };
const codes = (p: { code: string }[]) => p.map((x) => x.code);

describe('regionLegibility', () => {
  it('uses the legible character height of the screen', () => {
    expect(legibleCharHeightPx(10, 4)).toBe(21);
    expect(regionTypeScale(384, 21)).toEqual({ body: 24, title: 29, small: 21, lineHeight: 35, padding: 12 });
  });

  it('finds a one-line text region too short for a scrolling line at the legible height', () => {
    // A ticker draws its line at 70% of the region: 21 px needs 30 px.
    expect(regionLegibility({ width: 800, height: 29 }, ['text'], beiji)).toEqual([{ code: 'line-height', have: 29, need: 30, legiblePx: 21 }]);
    expect(regionLegibility({ width: 800, height: 30 }, ['text'], beiji)).toEqual([]);
  });

  it('finds a paging region whose header leaves no room for a line of the body', () => {
    // 77 px pages (≥ 2.2 lines of 35 px) but a notice's label, title and facts take most of it.
    const p = regionLegibility({ width: 800, height: 100 }, ['notice'], beiji);
    expect(codes(p)).toEqual(['body-height']);
    expect(p[0]).toMatchObject({ have: 100 });
    const need = p[0]?.need ?? 0;
    expect(regionLegibility({ width: 800, height: need }, ['notice'], beiji)).toEqual([]);
    // Plain text has no header, so the same height is enough.
    expect(regionLegibility({ width: 800, height: 100 }, ['text'], beiji)).toEqual([]);
  });

  it('finds a region too narrow for eight legible characters a line', () => {
    // 400 px tall: body 25 px, padding 13 px, so 8 characters need 2 × 13 + 8 × 25 = 226 px.
    expect(regionLegibility({ width: 225, height: 400 }, ['policy'], beiji)).toEqual([{ code: 'text-width', have: 225, need: 226, chars: 8, legiblePx: 21 }]);
    expect(regionLegibility({ width: 226, height: 400 }, ['policy'], beiji)).toEqual([]);
  });

  it('never warns about pictures and video, which have no text', () => {
    expect(regionLegibility({ width: 20, height: 20 }, ['image', 'video', 'service-map'], beiji)).toEqual([]);
    expect(regionLegibility({ width: 20, height: 20 }, [], beiji)).toEqual([]);
  });

  it('finds a clock too short for its digits or too narrow for the date and time', () => {
    expect(codes(regionLegibility({ width: 400, height: 34, widget: 'clock' }, [], beiji))).toEqual(['clock-height']);
    expect(codes(regionLegibility({ width: 200, height: 60, widget: 'clock' }, [], beiji))).toEqual(['clock-width']);
    expect(regionLegibility({ width: 400, height: 40, widget: 'clock' }, ['text'], beiji)).toEqual([]);
  });

  it('passes the demo city’s layouts on their own screens', () => {
    // server/seed/demo.ts: a ticker of ⌈1.9 legible heights⌉ and a clock of 28% of the width.
    const screens = [
      { width: 2880, height: 960, pixelPitchMm: 2.5, viewingDistanceM: 8 },
      { width: 1920, height: 1080, pixelPitchMm: 1.86, viewingDistanceM: 5 },
      { width: 1152, height: 384, pixelPitchMm: 4, viewingDistanceM: 10 },
      { width: 960, height: 320, pixelPitchMm: 3.91, viewingDistanceM: 6 },
      { width: 768, height: 256, pixelPitchMm: 5, viewingDistanceM: 8 },
      { width: 1280, height: 720, pixelPitchMm: 2.5, viewingDistanceM: 6 },
    ];
    for (const s of screens) {
      const tickerH = Math.max(32, Math.ceil(legibleCharHeightPx(s.viewingDistanceM, s.pixelPitchMm) * 1.9));
      const bodyH = s.height - tickerH;
      const mainW = Math.round(s.width * 0.62);
      const clockW = Math.round(s.width * 0.28);
      expect(regionLegibility({ width: mainW, height: bodyH }, ['policy', 'service-guide', 'service-map'], s), `${s.width}×${s.height} main`).toEqual([]);
      expect(regionLegibility({ width: s.width - mainW, height: bodyH }, ['notice', 'three-affairs'], s), `${s.width}×${s.height} side`).toEqual([]);
      expect(regionLegibility({ width: s.width - clockW, height: tickerH }, ['text'], s), `${s.width}×${s.height} ticker`).toEqual([]);
      expect(regionLegibility({ width: clockW, height: tickerH, widget: 'clock' }, [], s), `${s.width}×${s.height} clock`).toEqual([]);
    }
  });
});
