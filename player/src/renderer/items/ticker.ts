import { Container, Text } from 'pixi.js';
import type { RegionShowing } from '../../../../content/index.js';
import { FONT_FAMILY } from '../fonts.js';
import { COLORS } from '../theme.js';
import type { ItemView, ViewContext } from './view.js';

/** Pixels per second a ticker moves: about two characters a second at the legible size. */
export function tickerSpeed(fontPx: number): number {
  return Math.max(60, fontPx * 2.2);
}

/**
 * A single line that scrolls right to left. Its position is a function of the slot start and the
 * corrected clock, so every screen scrolls in step, and it moves by whole pixels for sharpness.
 */
export class TickerView implements ItemView {
  readonly container = new Container();
  readonly pages = 1;
  readonly page = 0;
  private readonly text: Text;
  private readonly speed: number;
  private readonly width: number;

  constructor(body: string, ctx: ViewContext) {
    this.width = ctx.width;
    const px = Math.max(ctx.type.small, Math.min(ctx.type.body, Math.floor(ctx.height * 0.7)));
    this.text = new Text({ text: body.replace(/\s*\n\s*/g, '  '), style: { fontFamily: FONT_FAMILY, fontSize: px, fill: COLORS.text } });
    this.text.y = Math.round((ctx.height - this.text.height) / 2);
    this.speed = tickerSpeed(px);
    this.container.addChild(this.text);
  }

  update(now: number, slot: RegionShowing): void {
    const travel = this.width + this.text.width;
    const moved = (((now - slot.slotStart) / 1000) * this.speed) % travel;
    this.text.x = Math.round(this.width - moved);
  }

  destroy(): void {
    this.container.destroy({ children: true, context: true, texture: true, textureSource: true });
  }
}
