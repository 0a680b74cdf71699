import { Container, Graphics, Text } from 'pixi.js';
import { pageAt, paginate, type RegionShowing } from '../../../../content/index.js';
import { FONT_FAMILY } from '../fonts.js';
import { ellipsize, wrap } from '../text.js';
import { COLORS } from '../theme.js';
import type { ItemView, ViewContext } from './view.js';

/** A text document: a header, a line of facts, then sections that run onto as many pages as needed. */
export interface TextDoc {
  /** A small label above the title, e.g. 政策文件, 公示公告. */
  readonly label: string;
  readonly title: string;
  readonly meta: readonly string[];
  /** Each part starts on a new page (a policy's interpretation follows its text). */
  readonly parts: readonly { readonly label?: string; readonly text: string }[];
  readonly align?: 'left' | 'center';
}

/**
 * Draws a TextDoc paginated inside its region, never below the legible size. Only the page on
 * screen exists as a Text object, so a long document costs one texture.
 */
export class PagedTextView implements ItemView {
  readonly container = new Container();
  private readonly pageTexts: { label?: string; lines: string[] }[] = [];
  private bodyText: Text | null = null;
  private pageLabel: Text | null = null;
  private footer: Text | null = null;
  private readonly header: Container = new Container();
  private current = -1;
  private readonly bodyTop: number;

  constructor(
    private readonly doc: TextDoc,
    private readonly ctx: ViewContext,
  ) {
    const { width, height, type } = ctx;
    const pad = type.padding;
    const inner = width - 2 * pad;
    let y = pad;
    if (doc.label) {
      const label = new Text({ text: doc.label, style: { fontFamily: FONT_FAMILY, fontSize: type.small, fill: COLORS.accent, fontWeight: '700' } });
      label.position.set(pad, y);
      this.header.addChild(label);
      y += Math.round(type.small * 1.4);
    }
    if (doc.title) {
      // Short regions keep the body readable: the title gets one line there.
      const maxTitleLines = height >= type.lineHeight * 12 ? 2 : 1;
      const wrapped = wrap(doc.title, inner, type.title, 700);
      const titleLines = wrapped.length > maxTitleLines ? [...wrapped.slice(0, maxTitleLines - 1), ellipsize(wrapped.slice(maxTitleLines - 1).join(''), inner, type.title, 700)] : wrapped;
      const title = new Text({
        text: titleLines.join('\n'),
        style: { fontFamily: FONT_FAMILY, fontSize: type.title, fill: COLORS.title, fontWeight: '700', lineHeight: Math.round(type.title * 1.3) },
      });
      title.position.set(pad, y);
      this.header.addChild(title);
      y += titleLines.length * Math.round(type.title * 1.3) + Math.round(pad / 2);
    }
    for (const m of doc.meta) {
      const meta = new Text({ text: ellipsize(m, inner, type.small), style: { fontFamily: FONT_FAMILY, fontSize: type.small, fill: COLORS.muted } });
      meta.position.set(pad, y);
      this.header.addChild(meta);
      y += Math.round(type.small * 1.35);
    }
    if (doc.title || doc.meta.length > 0) {
      const rule = new Graphics().rect(pad, y + 2, inner, 2).fill(COLORS.accent);
      this.header.addChild(rule);
      y += Math.round(pad / 2) + 4;
    }
    this.container.addChild(this.header);
    this.bodyTop = y;

    const footerH = Math.round(type.small * 1.4);
    const linesPerPage = Math.max(1, Math.floor((height - y - footerH - pad) / type.lineHeight));
    for (const part of doc.parts) {
      const lines = wrap(part.text, inner, type.body);
      const labelLines = part.label ? 1 : 0;
      for (const page of paginate(lines, linesPerPage - labelLines)) this.pageTexts.push({ label: part.label, lines: page });
    }
    if (this.pageTexts.length === 0) this.pageTexts.push({ lines: [] });
  }

  get pages(): number {
    return this.pageTexts.length;
  }

  get page(): number {
    return Math.max(0, this.current);
  }

  update(now: number, slot: RegionShowing): void {
    const p = pageAt(slot.slotStart, slot.slotEnd - slot.slotStart, this.pages, now);
    if (p !== this.current) this.showPage(p);
  }

  private showPage(p: number): void {
    this.current = p;
    const { type, width, height } = this.ctx;
    const pad = type.padding;
    const data = this.pageTexts[p] ?? { lines: [] };
    this.bodyText?.destroy(true);
    this.pageLabel?.destroy(true);
    this.footer?.destroy(true);
    this.pageLabel = null;
    let y = this.bodyTop;
    if (data.label) {
      this.pageLabel = new Text({ text: data.label, style: { fontFamily: FONT_FAMILY, fontSize: type.body, fill: COLORS.accent, fontWeight: '700' } });
      this.pageLabel.position.set(pad, y);
      this.container.addChild(this.pageLabel);
      y += type.lineHeight;
    }
    this.bodyText = new Text({
      text: data.lines.join('\n'),
      style: { fontFamily: FONT_FAMILY, fontSize: type.body, fill: COLORS.text, lineHeight: type.lineHeight, align: this.doc.align ?? 'left' },
    });
    this.bodyText.position.set(this.doc.align === 'center' ? Math.round((width - this.bodyText.width) / 2) : pad, y);
    this.container.addChild(this.bodyText);
    if (this.pages > 1) {
      this.footer = new Text({ text: `${p + 1} / ${this.pages}`, style: { fontFamily: FONT_FAMILY, fontSize: type.small, fill: COLORS.muted } });
      this.footer.position.set(width - pad - this.footer.width, height - pad - this.footer.height);
      this.container.addChild(this.footer);
    } else {
      this.footer = null;
    }
  }

  destroy(): void {
    this.container.destroy({ children: true, context: true, texture: true, textureSource: true });
  }
}
