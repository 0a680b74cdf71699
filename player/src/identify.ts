import type { ScreenCommand } from '../../content/index.js';
import { FONT_FAMILY } from './renderer/font-family.js';

/** The rectangle the screen occupies in the window, in CSS pixels. */
export interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

const STYLE = `
.zc-identify { position: fixed; z-index: 20; box-sizing: border-box; overflow: hidden; cursor: none;
  display: grid; align-content: center; justify-items: center; text-align: center; row-gap: 0.25em;
  background: #0b2a66; color: #ffffff; border: solid #ffd54f; font-family: '${FONT_FAMILY}', sans-serif; }
.zc-identify__name { font-weight: 700; line-height: 1.1; white-space: nowrap; color: #ffd54f; }
.zc-identify__zone, .zc-identify__id { line-height: 1.2; white-space: nowrap; }
.zc-identify__id { color: #c5d1dc; font-variant-numeric: tabular-nums; }
`;

function div(className: string, text: string): HTMLDivElement {
  const el = document.createElement('div');
  el.className = className;
  el.textContent = text;
  return el;
}

/**
 * "Which screen is this?": on an `identify` command the player shows its name (and its zone's
 * name and its id) large over everything, canvas and alerts included, for a while. A plain DOM
 * overlay over the screen's pixel rectangle: crisp, and independent of the renderer's state.
 */
export class IdentifyOverlay {
  private root: HTMLDivElement | null = null;
  private readonly style = document.createElement('style');
  private timer: ReturnType<typeof setTimeout> | null = null;
  private shown: ScreenCommand | null = null;

  constructor(private readonly opts: { readonly durationMs: number; readonly box: () => Box }) {
    this.style.textContent = STYLE;
  }

  /** True while the overlay is up. */
  get active(): boolean {
    return this.root !== null;
  }

  /** Shows the screen's identity, replacing one already up, for `durationMs` from now. */
  show(cmd: ScreenCommand): void {
    this.hide();
    if (!this.style.isConnected) document.head.append(this.style);
    const root = document.createElement('div');
    root.className = 'zc-identify';
    root.id = 'identify';
    root.setAttribute('role', 'status');
    root.append(div('zc-identify__name', cmd.screenName), div('zc-identify__zone', cmd.zoneName), div('zc-identify__id', `${cmd.screenId} · ${cmd.zoneId}`));
    document.body.append(root);
    this.root = root;
    this.shown = cmd;
    this.layout();
    this.timer = setTimeout(() => this.hide(), this.opts.durationMs);
  }

  /** Sizes the overlay to the screen's rectangle and its text to fit it (on show and on resize). */
  layout(): void {
    const root = this.root;
    const cmd = this.shown;
    if (!root || !cmd) return;
    const b = this.opts.box();
    Object.assign(root.style, { left: `${b.left}px`, top: `${b.top}px`, width: `${b.width}px`, height: `${b.height}px`, borderWidth: `${Math.max(2, Math.round(Math.min(b.width, b.height) * 0.02))}px` });
    // Chinese glyphs are about 1 em wide: the name takes the width it can, at most 40% of the height.
    const fit = (text: string, share: number, widthShare: number) => Math.max(8, Math.min(b.height * share, (b.width * widthShare) / Math.max(1, [...text].length)));
    const [name, zone, id] = [...root.children] as HTMLElement[];
    if (name) name.style.fontSize = `${fit(cmd.screenName, 0.4, 0.9)}px`;
    if (zone) zone.style.fontSize = `${fit(cmd.zoneName, 0.14, 0.9)}px`;
    // Latin characters are about half an em wide.
    if (id) id.style.fontSize = `${fit(`${cmd.screenId} · ${cmd.zoneId}`, 0.1, 1.7)}px`;
  }

  /** Takes the overlay down (time is up, the screen was unpaired, the page reloads). */
  hide(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.root?.remove();
    this.root = null;
    this.shown = null;
  }
}
