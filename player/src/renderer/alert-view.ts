import { Container, Graphics, Sprite, Text, type Texture } from 'pixi.js';
import { ALERT_COLOURS, ALERT_SEVERITY_LABELS, paginate, type AlertShow } from '../../../content/index.js';
import { clockText } from './clock.js';
import { FONT_FAMILY } from './font-family.js';
import { tickerSpeed } from './items/ticker.js';
import { ellipsize, measurer, wrap } from './text.js';

/** What an alert view draws; the composer's preview passes a draft in the same shape. */
export type AlertContent = Pick<AlertShow, 'severity' | 'presentation' | 'title' | 'text' | 'issuedAt'>;

export interface AlertViewOptions {
  /** The screen's pixel size: a takeover fills it, a banner spans its width. */
  readonly width: number;
  readonly height: number;
  /** The city's time zone, for the time issued. */
  readonly timeZone: string;
  /** The smallest legible character height on this screen (see legibleCharHeightPx); 16 if unknown. */
  readonly minFontPx?: number;
  /** The alert's picture, already loaded. The view draws it but does not own it. */
  readonly image?: Texture | null;
}

/** How long a page of a takeover's text stays: time to read it (about five characters a second), within bounds. */
export const ALERT_PAGE_MS = { perChar: 200, min: 6000, max: 20_000 } as const;
/** A banner's text stands still this long before it starts to scroll, so that its start can be read. */
const SCROLL_HOLD_MS = 1500;
/** Widest piece of scrolling text drawn as one texture (GPUs limit texture width). */
const SEGMENT_PX = 1024;

export const ALERT_TEXT = {
  tag: { zh: '紧急通知', en: 'Urgent notice' },
  issued: { zh: '发布时间', en: 'Issued' },
} as const;

/** Every character an alert view may draw, so that its font subsets are loaded before layout. */
export function alertGlyphs(a: AlertContent): string {
  return `${a.title}${a.text}${ALERT_SEVERITY_LABELS[a.severity].zh}${ALERT_TEXT.tag.zh}${ALERT_TEXT.issued.zh}0123456789月日星期一二三四五六日:/ ·…`;
}

const px = (n: number) => Math.max(1, Math.round(n));

/**
 * One alert drawn over the whole screen: a takeover (the severity colour edge to edge, a large
 * title, the text paginated, an optional picture, the severity and the time issued) or a banner
 * (a band across the bottom fifth with the severity, the title and the text, scrolling when
 * long). Text uses the browser's font engine (Text), so Chinese is shaped properly.
 */
export class AlertView {
  readonly container = new Container();
  private readonly colour: { background: string; foreground: string };
  private readonly min: number;
  private sprite: Sprite | null = null;
  /** Takeover: the body's lines, page by page, and what draws the page showing. */
  private bodyPages: string[][] = [];
  /** When each page starts within one pass through the text (ms), and how long the pass is. */
  private pageStarts: number[] = [];
  private pass = 0;
  private body: { x: number; y: number; size: number; lineHeight: number; width: number } | null = null;
  private bodyText: Text | null = null;
  private footer: Text | null = null;
  private footerSize = 16;
  private pad = 0;
  private current = -1;
  private bandRect: { x: number; y: number; width: number; height: number } | null = null;
  /** Banner: the pieces of scrolling text (drawn only while on the strip), and the clipped strip they move in. */
  private scroll: {
    strip: Container;
    segments: { piece: string; text: Text | null; offset: number; width: number }[];
    size: number;
    y: number;
    total: number;
    area: number;
    speed: number;
  } | null = null;

  constructor(
    readonly alert: AlertContent,
    private readonly opts: AlertViewOptions,
  ) {
    this.colour = ALERT_COLOURS[alert.severity];
    this.min = Math.max(8, opts.minFontPx ?? 16);
    if (alert.presentation === 'takeover') this.buildTakeover();
    else this.buildBanner();
  }

  /** Pages of a takeover's text (1 for a banner). */
  get pages(): number {
    return Math.max(1, this.bodyPages.length);
  }

  /** How long one pass takes: through every page of a takeover, or a banner's text scrolling by once (0: nothing moves). */
  get cycleMs(): number {
    if (this.body) return this.bodyPages.length > 1 ? this.pass : 0;
    const s = this.scroll;
    return s && s.total > s.area ? SCROLL_HOLD_MS + ((s.total + s.area) / s.speed) * 1000 : 0;
  }

  get page(): number {
    return Math.max(0, this.current);
  }

  /** The banner's band in screen pixels, or the whole screen for a takeover. */
  get bounds(): { x: number; y: number; width: number; height: number } {
    return this.bandRect ?? { x: 0, y: 0, width: this.opts.width, height: this.opts.height };
  }

  private label(text: string, size: number, fill: string, bold = false): Text {
    return new Text({ text, style: { fontFamily: FONT_FAMILY, fontSize: size, fill, fontWeight: bold ? '700' : '400', lineHeight: px(size * 1.3) } });
  }

  /** A severity chip: the label in the background colour on the foreground colour. */
  private chip(x: number, y: number, size: number): { width: number; height: number } {
    const text = this.label(ALERT_SEVERITY_LABELS[this.alert.severity].zh, size, this.colour.background, true);
    const padX = px(size * 0.4);
    const w = px(text.width + 2 * padX);
    const h = px(size * 1.35);
    this.container.addChild(new Graphics().roundRect(x, y, w, h, px(size * 0.2)).fill(this.colour.foreground));
    text.position.set(x + padX, y + px((h - text.height) / 2));
    this.container.addChild(text);
    return { width: w, height: h };
  }

  private buildTakeover(): void {
    const { width: W, height: H, image } = this.opts;
    const fg = this.colour.foreground;
    const pad = Math.max(6, px(Math.min(W, H) * 0.04));
    this.pad = pad;
    const inner = W - 2 * pad;
    this.container.addChild(new Graphics().rect(0, 0, W, H).fill(this.colour.background));

    // Larger than ordinary content (a sixteenth of the height, as typeScale sets body text), and
    // never below a quarter above the legible minimum.
    const bodySize = Math.max(px(this.min * 1.25), Math.min(px(H / 16), px(inner / 14)));
    const titleSize = Math.max(px(bodySize * 1.5), Math.min(px(H / 10), px(inner / 8)));

    // Header: severity, what this is, and when it was issued.
    const small = Math.max(this.min, px(H * 0.055));
    const chip = this.chip(pad, pad, small);
    const tag = this.label(ALERT_TEXT.tag.zh, small, fg, true);
    tag.position.set(pad + chip.width + px(small * 0.6), pad + px((chip.height - tag.height) / 2));
    this.container.addChild(tag);
    const issuedRoom = inner - chip.width - px(small * 1.2) - tag.width;
    const issued = this.label(ellipsize(`${ALERT_TEXT.issued.zh} ${clockText(this.alert.issuedAt, this.opts.timeZone)}`, Math.max(0, issuedRoom), small), small, fg);
    issued.position.set(W - pad - px(issued.width), pad + px((chip.height - issued.height) / 2));
    this.container.addChild(issued);
    let y = pad + chip.height + px(small * 0.4);
    this.container.addChild(new Graphics().rect(pad, y, inner, Math.max(2, px(small * 0.1))).fill(fg));
    y += Math.max(2, px(small * 0.1)) + px(small * 0.5);

    // Title: large, one line on short screens, two where the body keeps three lines below.
    const bodyLine = px(bodySize * 1.45);
    const titleLine = px(titleSize * 1.25);
    const wrapped = wrap(this.alert.title, inner, titleSize, 700);
    const maxTitleLines = H - pad - (y + 2 * titleLine) >= 3 * bodyLine ? 2 : 1;
    const titleLines =
      wrapped.length > maxTitleLines ? [...wrapped.slice(0, maxTitleLines - 1), ellipsize(wrapped.slice(maxTitleLines - 1).join(''), inner, titleSize, 700)] : wrapped;
    const title = new Text({ text: titleLines.join('\n'), style: { fontFamily: FONT_FAMILY, fontSize: titleSize, fill: fg, fontWeight: '700', lineHeight: titleLine } });
    title.position.set(pad, y);
    this.container.addChild(title);
    y += titleLines.length * titleLine + px(bodySize * 0.4);

    // The picture to the right of the text, as large as the column allows.
    const areaH = H - pad - y;
    let textW = inner;
    if (image && areaH > 0) {
      const scale = Math.min((inner * 0.4) / image.width, areaH / image.height);
      const w = px(image.width * scale);
      const h = px(image.height * scale);
      this.sprite = new Sprite(image);
      this.sprite.width = w;
      this.sprite.height = h;
      this.sprite.position.set(W - pad - w, y + px((areaH - h) / 2));
      this.container.addChild(this.sprite);
      textW = inner - w - pad;
    }

    // The text, in as many pages as it needs; a page number when there are several.
    if (this.alert.text.trim() && textW > bodySize * 2) {
      // A short text is set larger, as long as it still fits on one page.
      let size = bodySize;
      let lines = wrap(this.alert.text, textW, size);
      for (let s = Math.min(px(bodySize * 1.6), px(titleSize * 0.8)); s > bodySize; s = px(s * 0.9)) {
        const candidate = wrap(this.alert.text, textW, s);
        if (candidate.length * px(s * 1.45) <= areaH) {
          size = s;
          lines = candidate;
          break;
        }
      }
      const lineHeight = px(size * 1.45);
      const perPage = (room: number) => Math.max(1, Math.floor(room / lineHeight));
      let pages = paginate(lines, perPage(areaH));
      if (pages.length > 1) pages = paginate(lines, perPage(areaH - px(small * 1.3)));
      this.bodyPages = pages;
      this.body = { x: pad, y, size, lineHeight, width: textW };
      this.footerSize = small;
      for (const page of pages) {
        this.pageStarts.push(this.pass);
        const chars = page.reduce((n, line) => n + [...line].length, 0);
        this.pass += Math.min(ALERT_PAGE_MS.max, Math.max(ALERT_PAGE_MS.min, chars * ALERT_PAGE_MS.perChar));
      }
    }
  }

  private showPage(p: number): void {
    this.current = p;
    const b = this.body;
    if (!b) return;
    this.bodyText?.destroy(true);
    this.footer?.destroy(true);
    this.footer = null;
    this.bodyText = new Text({
      text: (this.bodyPages[p] ?? []).join('\n'),
      style: { fontFamily: FONT_FAMILY, fontSize: b.size, fill: this.colour.foreground, lineHeight: b.lineHeight },
    });
    this.bodyText.position.set(b.x, b.y);
    this.container.addChild(this.bodyText);
    if (this.bodyPages.length > 1) {
      this.footer = this.label(`${p + 1} / ${this.bodyPages.length}`, this.footerSize, this.colour.foreground);
      // At the foot of the text column, clear of the picture.
      this.footer.position.set(b.x + b.width - px(this.footer.width), this.opts.height - this.pad - px(this.footer.height));
      this.container.addChild(this.footer);
    }
  }

  private buildBanner(): void {
    const { width: W, height: H } = this.opts;
    const fg = this.colour.foreground;
    const bandH0 = px(H / 5);
    const body = this.alert.text.replace(/\s*\n\s*/g, '  ').trim();
    // Screens not much wider than 16:9 have a tall band: the title on one line, the text
    // scrolling on a second. Wide strips have one line: the severity, the title, the text.
    const twoLines = body !== '' && W / H < 2.5 && bandH0 * 0.34 >= this.min;
    const size = twoLines ? px(bandH0 * 0.34) : Math.max(this.min, px(bandH0 * 0.5));
    const bandH = Math.min(H, Math.max(bandH0, px(size * (twoLines ? 2.9 : 1.6))));
    const top = H - bandH;
    this.bandRect = { x: 0, y: top, width: W, height: bandH };
    this.container.addChild(new Graphics().rect(0, top, W, bandH).fill(this.colour.background));
    const pad = Math.max(4, px(size * 0.4));
    const lineH = twoLines ? px(bandH / 2) : bandH;
    const chip = this.chip(pad, top + px((lineH - size * 1.35) / 2), size);
    let x = pad + chip.width + pad;
    const titleRoom = body && !twoLines ? Math.floor((W - x - pad) * 0.45) : W - x - pad;
    const title = this.label(ellipsize(this.alert.title, Math.max(0, titleRoom), size, 700), size, fg, true);
    title.position.set(x, top + px((lineH - title.height) / 2));
    this.container.addChild(title);
    let stripTop = top;
    if (twoLines) {
      x = pad;
      stripTop = top + lineH;
    } else x += px(title.width) + px(size * 0.8);
    const stripH = top + bandH - stripTop;
    const area = W - pad - x;
    if (!body || area < size * 2) return;

    // The text in pieces no wider than a texture may be, so that 2000 characters can scroll
    // while only the two or three pieces on the strip hold a texture.
    const measure = measurer(size);
    const strip = new Container();
    strip.position.set(x, stripTop);
    const mask = new Graphics().rect(0, 0, area, stripH).fill(0xffffff);
    strip.addChild(mask);
    strip.mask = mask;
    const segments: { piece: string; text: Text | null; offset: number; width: number }[] = [];
    let offset = 0;
    let piece = '';
    const flush = () => {
      if (!piece) return;
      const width = measure(piece);
      segments.push({ piece, text: null, offset, width });
      offset += width;
      piece = '';
    };
    for (const ch of body) {
      if (piece && measure(piece + ch) > SEGMENT_PX) flush();
      piece += ch;
    }
    flush();
    this.container.addChild(strip);
    this.scroll = { strip, segments, size, y: px((stripH - size * 1.3) / 2), total: offset, area, speed: tickerSpeed(size) };
  }

  /** Advances to `now` (server-corrected): the page of a takeover, the scroll of a banner; `since` is when it took the screen. */
  update(now: number, since: number): void {
    if (this.body) {
      const t = this.pass > 0 ? Math.max(0, now - since) % this.pass : 0;
      let p = 0;
      while (p + 1 < this.pageStarts.length && (this.pageStarts[p + 1] ?? Infinity) <= t) p++;
      if (p !== this.current) this.showPage(p);
    }
    const s = this.scroll;
    if (!s) return;
    let x0 = 0;
    if (s.total > s.area) {
      // Starts where it can be read, moves left, and comes back in from the right edge.
      const moved = ((Math.max(0, now - since - SCROLL_HOLD_MS) / 1000) * s.speed) % (s.total + s.area);
      x0 = moved <= s.total ? -moved : s.area - (moved - s.total);
    }
    for (const seg of s.segments) {
      const x = Math.round(x0 + seg.offset);
      if (x < s.area && x + seg.width > 0) {
        if (!seg.text) {
          seg.text = this.label(seg.piece, s.size, this.colour.foreground);
          seg.text.y = s.y;
          s.strip.addChild(seg.text);
        }
        seg.text.x = x;
      } else if (seg.text) {
        seg.text.destroy(true);
        seg.text = null;
      }
    }
  }

  /** Frees the view's display objects and text textures; the picture's texture stays with its owner. */
  destroy(): void {
    this.sprite?.removeFromParent();
    this.sprite?.destroy();
    this.sprite = null;
    this.container.destroy({ children: true, context: true, texture: true, textureSource: true });
  }
}
