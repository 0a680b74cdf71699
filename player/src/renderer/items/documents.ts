import { CONTENT_KIND_LABELS, calendarDaysBetween, instant, type ContentItem } from '../../../../content/index.js';
import type { TextDoc } from './paged-text.js';

const dateFormatters = new Map<string, Intl.DateTimeFormat>();

/** A date as 2026年11月28日 in the city's time zone. */
export function formatDate(t: number, timeZone: string): string {
  let f = dateFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('zh-CN', { timeZone, year: 'numeric', month: 'long', day: 'numeric' });
    dateFormatters.set(timeZone, f);
  }
  return f.format(new Date(t));
}

const AFFAIRS = { party: '党务公开', village: '村务公开', finance: '财务公开' } as const;

/** The text document of a text-like item at instant `now` (a notice counts its remaining days). */
export function documentOf(item: ContentItem, now: number, timeZone: string): TextDoc | null {
  const label = CONTENT_KIND_LABELS[item.kind].zh;
  switch (item.kind) {
    case 'policy':
      return {
        label: `${label} · 政策发布解读`,
        title: item.title,
        meta: [`${item.docNumber}  ${item.issuer}  ${item.issuedDate.replace(/^(\d{4})-(\d{2})-(\d{2})$/, '$1年$2月$3日')}`],
        parts: [
          { label: '【政策原文】', text: item.body },
          { label: `【政策解读】${item.interpretation.title}`, text: item.interpretation.body },
        ],
      };
    case 'notice': {
      const end = instant(item.publicityEnd);
      const days = calendarDaysBetween(now, end, timeZone);
      const remaining = days > 0 ? `剩余 ${days} 天` : '今日截止';
      return {
        label: `${label} · ${remaining}`,
        title: item.title,
        meta: [`公示期:${formatDate(instant(item.publicityStart), timeZone)} 至 ${formatDate(end, timeZone)}`, ...(item.contact ? [`联系:${item.contact}`] : [])],
        parts: [{ text: item.body }],
      };
    }
    case 'service-guide':
      return {
        label,
        title: item.matter,
        meta: [`办理部门:${item.department}`],
        parts: [
          {
            text: [
              '办理流程:',
              ...item.steps.map((s, i) => `${i + 1}. ${s}`),
              '所需材料:',
              ...item.materials.map((m) => `· ${m}`),
              ...(item.timeLimit ? [`办理时限:${item.timeLimit}`] : []),
              ...(item.fee ? [`收费标准:${item.fee}`] : []),
              ...(item.location ? [`办理地点:${item.location}`] : []),
              ...(item.phone ? [`咨询电话:${item.phone}`] : []),
            ].join('\n'),
          },
        ],
      };
    case 'three-affairs':
      return {
        label: `${label} · ${AFFAIRS[item.category]}`,
        title: item.title,
        meta: [`公开期间:${item.period}`],
        parts: [
          {
            text: [item.body, ...item.rows.map((r) => `${r.item}:${r.amount}${r.note ? `(${r.note})` : ''}`)].filter(Boolean).join('\n'),
          },
        ],
      };
    case 'text':
      return { label: '', title: '', meta: [], parts: [{ text: item.body }], align: item.align };
    default:
      return null;
  }
}
