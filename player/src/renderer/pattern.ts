import { CanvasSource, Texture, TilingSprite } from 'pixi.js';

/** Test patterns an installer can show instead of content, to align the sending card (`?pattern=`). */
export const PATTERN_KINDS = ['checker'] as const;
export type PatternKind = (typeof PATTERN_KINDS)[number];

/** Whether a URL parameter names a pattern the renderer knows. */
export function isPatternKind(value: string | null): value is PatternKind {
  return (PATTERN_KINDS as readonly (string | null)[]).includes(value);
}

/**
 * The 2×2 tile of a 1-pixel checkerboard, white at its top-left so that the screen's first pixel
 * is lit: against the black page around it an installer sees exactly where the rectangle starts.
 * Written as ImageData, not drawn, so that no antialiasing or colour management can touch it.
 */
function checkerTile(): Texture {
  const canvas = document.createElement('canvas');
  canvas.width = 2;
  canvas.height = 2;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d context for the test pattern');
  const data = new ImageData(2, 2);
  data.data.set([255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 255]);
  ctx.putImageData(data, 0, 0);
  // Nearest sampling at resolution 1: every tile texel lands on exactly one device pixel.
  return new Texture({ source: new CanvasSource({ resource: canvas, resolution: 1, scaleMode: 'nearest', addressMode: 'repeat' }) });
}

/**
 * A calibration pattern covering the whole screen rectangle. A pixel that is blurred, doubled or
 * dropped on its way to the wall shows as grey or as two equal neighbours, which is what the
 * installer (and test/browser/pixels.test.ts) looks for.
 */
export function createPattern(kind: PatternKind, width: number, height: number): TilingSprite {
  switch (kind) {
    case 'checker': {
      const sprite = new TilingSprite({ texture: checkerTile(), width, height });
      sprite.label = `pattern:${kind}`;
      return sprite;
    }
  }
}
