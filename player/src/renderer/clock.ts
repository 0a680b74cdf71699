import { Container, Text } from 'pixi.js';
import { FONT_FAMILY } from './fonts.js';
import { COLORS } from './theme.js';

const WEEKDAYS = ['一', '二', '三', '四', '五', '六', '日'];
const formatters = new Map<string, Intl.DateTimeFormat>();

/** "11月28日 星期六 14:05" on the city's wall clock. */
export function clockText(t: number, timeZone: string, seconds = false): string {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  const wd = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts.weekday ?? '');
  const time = seconds ? `${parts.hour}:${parts.minute}:${parts.second}` : `${parts.hour}:${parts.minute}`;
  return `${parts.month}月${parts.day}日 星期${WEEKDAYS[wd] ?? ''} ${time}`;
}

/** A clock on the server-corrected time; it re-rasterises only when the shown text changes. */
export class ClockView {
  readonly container = new Container();
  private readonly text: Text;
  private shown = '';

  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly timeZone: string,
    fontPx: number,
  ) {
    this.text = new Text({ text: '', style: { fontFamily: FONT_FAMILY, fontSize: fontPx, fill: COLORS.title, fontWeight: '700' } });
    this.container.addChild(this.text);
  }

  update(now: number): void {
    const s = clockText(now, this.timeZone, true);
    if (s === this.shown) return;
    this.shown = s;
    this.text.text = s;
    this.text.position.set(Math.max(0, Math.round((this.width - this.text.width) / 2)), Math.round((this.height - this.text.height) / 2));
  }

  destroy(): void {
    this.container.destroy({ children: true, context: true, texture: true, textureSource: true });
  }
}
