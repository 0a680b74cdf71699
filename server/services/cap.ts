import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ALERT_POLICY, ancestry, type AlertInput, type AlertSeverity, type Zone } from '../../content/index.js';
import { AppError } from '../errors.js';

/**
 * OASIS CAP 1.2 (Common Alerting Protocol), the XML that official early-warning systems publish:
 * reading a message safely and mapping it to an urgent broadcast. Pure functions, no I/O.
 */

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';
/** The largest CAP message accepted; real ones are a few kilobytes. */
export const CAP_BODY_LIMIT = 256 * 1024;
/** How long an alert without `<expires>` stays on screens. */
export const CAP_DEFAULT_TTL_MINUTES = 6 * 60;

export const CAP_STATUSES = ['Actual', 'Exercise', 'System', 'Test', 'Draft'] as const;
export const CAP_MSG_TYPES = ['Alert', 'Update', 'Cancel', 'Ack', 'Error'] as const;
export const CAP_SCOPES = ['Public', 'Restricted', 'Private'] as const;
const URGENCIES = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'] as const;
const SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const;
const CERTAINTIES = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'] as const;

export type CapStatus = (typeof CAP_STATUSES)[number];
export type CapMsgType = (typeof CAP_MSG_TYPES)[number];
export type CapSeverity = (typeof SEVERITIES)[number];

/** One earlier message named in `<references>`. */
export interface CapRef {
  readonly sender: string;
  readonly identifier: string;
  readonly sent: string;
}

export interface CapArea {
  readonly areaDesc: string;
  readonly geocodes: readonly { readonly valueName: string; readonly value: string }[];
}

export interface CapInfo {
  readonly language: string;
  readonly event: string;
  readonly urgency: string;
  readonly severity: CapSeverity;
  readonly certainty: string;
  readonly headline: string | null;
  readonly description: string | null;
  readonly instruction: string | null;
  /** Epoch ms, or null when the message gives none. */
  readonly expires: number | null;
  readonly areas: readonly CapArea[];
}

/** The parts of a CAP 1.2 `<alert>` that ZoneCast uses. */
export interface CapMessage {
  readonly identifier: string;
  readonly sender: string;
  readonly sent: string;
  readonly status: CapStatus;
  readonly msgType: CapMsgType;
  readonly scope: string;
  readonly references: readonly CapRef[];
  readonly info: readonly CapInfo[];
}

/**
 * Decodes a request body: a byte-order mark, else the Content-Type charset, else the XML
 * declaration's encoding, else UTF-8. Chinese systems may still send GB18030/GBK.
 */
export function decodeCapBody(body: Buffer, contentType: string | undefined): string {
  let label = 'utf-8';
  let bytes = body;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) bytes = body.subarray(3);
  else if (body[0] === 0xff && body[1] === 0xfe) label = 'utf-16le';
  else if (body[0] === 0xfe && body[1] === 0xff) label = 'utf-16be';
  else {
    const declared = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1] ?? /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/.exec(body.subarray(0, 200).toString('latin1'))?.[1];
    if (declared) label = declared.toLowerCase();
  }
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(label, { fatal: true });
  } catch {
    throw new AppError('UNSUPPORTED_CONTENT_TYPE', `unknown character encoding ${label}; send UTF-8`);
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw new AppError('CAP_MALFORMED', `the body is not valid ${label}`);
  }
}

// What XML allows without a DTD: the five predefined entities and character references.
const UNDECLARED_ENTITY = /&(?!(?:amp|lt|gt|apos|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});)([A-Za-z_:][\w.:-]*);/;

/**
 * Refuses anything that could make the parser fetch or expand: a DOCTYPE (external entities,
 * XXE) or an entity declaration (billion laughs) anywhere in the text, even in a comment.
 */
function assertSafe(xml: string): void {
  const m = /<!(DOCTYPE|ENTITY)/i.exec(xml);
  if (m) throw new AppError('CAP_UNSAFE_XML', `<!${m[1]} at offset ${m.index}`);
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Identifiers and division codes are strings: "0610…" must not become a number.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Only the predefined entities and character references reach the parser (see assertSafe).
  processEntities: true,
  htmlEntities: true,
  isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
});

type Node = string | { readonly [key: string]: unknown };

/** Reads the elements of the CAP namespace under a node, whatever prefix the sender bound it to. */
class Reader {
  constructor(private readonly prefix: string) {}

  all(node: Node | undefined, name: string): Node[] {
    if (node === undefined || typeof node === 'string') return [];
    const v = node[this.prefix ? `${this.prefix}:${name}` : name];
    return Array.isArray(v) ? (v as Node[]) : [];
  }

  /** The trimmed text of the first `name` child, or null when it is missing or empty. */
  text(node: Node | undefined, name: string): string | null {
    const first = this.all(node, name)[0];
    // A leaf is its text; an element with attributes keeps its text under #text.
    const raw = typeof first === 'string' ? first : first?.['#text'];
    const t = typeof raw === 'string' ? clean(raw).trim() : '';
    return t === '' ? null : t;
  }
}

/** Drops control characters a screen cannot show, keeping line breaks and tabs. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$/;
const validTime = (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s));
// CAP: no whitespace, commas or restricted characters in identifiers and senders.
const TOKEN = /^[^\s,<&]{1,256}$/;

/**
 * Parses a CAP 1.2 message, refusing what is unsafe (CAP_UNSAFE_XML), not well-formed
 * (CAP_MALFORMED), not CAP 1.2 (CAP_NAMESPACE) or missing what a broadcast needs (CAP_INVALID).
 */
export function parseCap(xml: string): CapMessage {
  assertSafe(xml);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new AppError('CAP_MALFORMED', `${valid.err.msg} (line ${valid.err.line})`);
  const outsideMarkup = xml.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '').replace(/<!--[\s\S]*?-->/g, '');
  const entity = UNDECLARED_ENTITY.exec(outsideMarkup);
  if (entity) throw new AppError('CAP_MALFORMED', `undeclared entity &${entity[1]};`);

  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml) as Record<string, unknown>;
  } catch (err) {
    throw new AppError('CAP_MALFORMED', (err as Error).message);
  }
  const roots = Object.entries(doc).filter(([k]) => k !== '#text');
  const [rootEntry] = roots;
  const rootNodes = rootEntry?.[1];
  if (roots.length !== 1 || !rootEntry || !Array.isArray(rootNodes) || rootNodes.length !== 1) throw new AppError('CAP_MALFORMED', 'the document must have exactly one root element');
  const [rootName] = rootEntry;
  const root = (typeof rootNodes[0] === 'object' && rootNodes[0] !== null ? rootNodes[0] : {}) as Record<string, unknown>;
  const colon = rootName.indexOf(':');
  const prefix = colon >= 0 ? rootName.slice(0, colon) : '';
  const local = colon >= 0 ? rootName.slice(colon + 1) : rootName;
  const ns = root[prefix ? `@_xmlns:${prefix}` : '@_xmlns'];
  if (local !== 'alert' || ns !== CAP_NAMESPACE) throw new AppError('CAP_NAMESPACE', `root {${typeof ns === 'string' ? ns : ''}}${local}`);

  const r = new Reader(prefix);
  const problems: string[] = [];
  const need = (node: Node, name: string, where = ''): string => {
    const v = r.text(node, name);
    if (v === null) problems.push(`missing ${where}${name}`);
    return v ?? '';
  };
  const oneOf = <T extends string>(value: string, allowed: readonly T[], name: string): T => {
    if (value !== '' && !(allowed as readonly string[]).includes(value)) problems.push(`${name} "${value}" is not one of ${allowed.join(', ')}`);
    return value as T;
  };

  const identifier = need(root, 'identifier');
  const sender = need(root, 'sender');
  const sent = need(root, 'sent');
  if (identifier && !TOKEN.test(identifier)) problems.push('identifier contains spaces, commas or < &');
  if (sender && !TOKEN.test(sender)) problems.push('sender contains spaces, commas or < &');
  if (sent && !validTime(sent)) problems.push(`sent "${sent}" is not a CAP date-time`);
  const status = oneOf(need(root, 'status'), CAP_STATUSES, 'status');
  const msgType = oneOf(need(root, 'msgType'), CAP_MSG_TYPES, 'msgType');
  const scope = oneOf(need(root, 'scope'), CAP_SCOPES, 'scope');

  const references: CapRef[] = [];
  for (const triple of (r.text(root, 'references') ?? '').split(/\s+/).filter(Boolean)) {
    const [refSender, refIdentifier, refSent, ...rest] = triple.split(',');
    if (!refSender || !refIdentifier || !refSent || rest.length > 0) problems.push(`reference "${triple}" is not sender,identifier,sent`);
    else references.push({ sender: refSender, identifier: refIdentifier, sent: refSent });
  }
  if ((msgType === 'Update' || msgType === 'Cancel') && references.length === 0 && !problems.some((p) => p.startsWith('reference'))) problems.push(`missing references (needed by ${msgType})`);

  const info: CapInfo[] = r.all(root, 'info').map((node, i) => {
    const at = `info[${i}]/`;
    const expiresText = r.text(node, 'expires');
    if (expiresText !== null && !validTime(expiresText)) problems.push(`${at}expires "${expiresText}" is not a CAP date-time`);
    const areas = r.all(node, 'area').map((area, j) => ({
      areaDesc: need(area, 'areaDesc', `${at}area[${j}]/`),
      geocodes: r.all(area, 'geocode').map((g) => ({ valueName: r.text(g, 'valueName') ?? '', value: r.text(g, 'value') ?? '' })),
    }));
    if (areas.length === 0) problems.push(`missing ${at}area`);
    return {
      language: r.text(node, 'language') ?? 'en-US',
      event: need(node, 'event', at),
      urgency: oneOf(need(node, 'urgency', at), URGENCIES, `${at}urgency`),
      severity: oneOf(need(node, 'severity', at), SEVERITIES, `${at}severity`),
      certainty: oneOf(need(node, 'certainty', at), CERTAINTIES, `${at}certainty`),
      headline: r.text(node, 'headline'),
      description: r.text(node, 'description'),
      instruction: r.text(node, 'instruction'),
      expires: expiresText !== null && validTime(expiresText) ? Date.parse(expiresText) : null,
      areas,
    };
  });
  // A Cancel needs no <info>: it names what it cancels in <references>.
  if (info.length === 0 && msgType !== 'Cancel') problems.push('missing info');
  if (problems.length > 0) throw new AppError('CAP_INVALID', problems.slice(0, 8).join('; '));
  return { identifier, sender, sent, status, msgType, scope, references, info };
}

/** The info block to broadcast: Chinese (zh-CN) first, then any Chinese, else the first. */
export function preferredInfo(msg: Pick<CapMessage, 'info'>): CapInfo | undefined {
  const lang = (i: CapInfo) => i.language.toLowerCase();
  return msg.info.find((i) => lang(i) === 'zh-cn') ?? msg.info.find((i) => lang(i) === 'zh' || lang(i).startsWith('zh-')) ?? msg.info[0];
}

/** CAP severity to ours; Unknown is treated as moderate (a banner, not a takeover). */
export function capSeverity(s: CapSeverity): AlertSeverity {
  switch (s) {
    case 'Extreme':
      return 'extreme';
    case 'Severe':
      return 'severe';
    case 'Minor':
      return 'minor';
    default:
      return 'moderate';
  }
}

// Division codes: province 2, prefecture 2, county 2 (GB/T 2260's six digits), township 3, village 3.
const LEVEL_ENDS = [2, 4, 6, 9, 12] as const;

/**
 * The digits that name a division: a 6-, 9- or 12-digit code without its trailing all-zero
 * levels (610482000000 → 610482, 610400 → 6104). Null when it is not a division code.
 */
export function divisionPrefix(code: string): string | null {
  if (!/^(\d{6}|\d{9}|\d{12})$/.test(code)) return null;
  const full = code.padEnd(12, '0');
  let end = 0;
  let start = 0;
  for (const e of LEVEL_ENDS) {
    if (/[1-9]/.test(full.slice(start, e))) end = e;
    start = e;
  }
  return end === 0 ? null : full.slice(0, end);
}

type ZoneRef = Pick<Zone, 'id' | 'parentId' | 'divisionCode' | 'shortName' | 'name'>;

/** Zones whose division lies within the one a geocode names. */
function zonesForCode(code: string, zones: readonly ZoneRef[]): ZoneRef[] {
  const prefix = divisionPrefix(code);
  return prefix === null ? [] : zones.filter((z) => z.divisionCode.startsWith(prefix));
}

/**
 * Zones an `<areaDesc>` names: each part (split at spaces and 、,;) that equals exactly one
 * zone's short name, full name, or short names from the city down (彬州市北极镇). A name
 * shared by zones (城关镇 is in many counties) matches none of them.
 */
function zonesForDesc(desc: string, zones: readonly ZoneRef[], byId: ReadonlyMap<string, ZoneRef>): ZoneRef[] {
  const path = (z: ZoneRef) =>
    ancestry(z.id, byId)
      .map((a) => a.shortName)
      .reverse()
      .join('');
  const out: ZoneRef[] = [];
  for (const part of new Set([desc.trim(), ...desc.split(/[\s,,、;;]+/)])) {
    if (!part) continue;
    const hits = zones.filter((z) => z.shortName === part || z.name === part || path(z) === part);
    if (hits.length === 1 && hits[0]) out.push(hits[0]);
  }
  return out;
}

/**
 * The target zones of an info block: each area's geocodes (6-, 9- or 12-digit division codes,
 * whatever their valueName) or, when none of them matches a zone, its areaDesc. Zones inside
 * another target are dropped, since a target covers its whole subtree.
 */
export function capZones(info: Pick<CapInfo, 'areas'>, zones: readonly ZoneRef[]): string[] {
  const byId = new Map(zones.map((z) => [z.id, z]));
  const found = new Set<string>();
  for (const area of info.areas) {
    let hits = area.geocodes.flatMap((g) => zonesForCode(g.value, zones));
    if (hits.length === 0) hits = zonesForDesc(area.areaDesc, zones, byId);
    for (const z of hits) found.add(z.id);
  }
  return [...found].filter((id) => !ancestry(id, byId).some((a) => a.id !== id && found.has(a.id)));
}

/** Shortens to `max` UTF-16 units at a character boundary, marking the cut with an ellipsis. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let out = '';
  for (const ch of s) {
    if (out.length + ch.length > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/**
 * Maps a CAP Alert or Update to what the alert service takes: severity, headline (or event)
 * as the title, description and instruction as the text, the time to live from `<expires>`
 * (6 h without, within ALERT_POLICY) and the target zones (CAP_NO_ZONE when none matches).
 */
export function capAlertInput(msg: CapMessage, zones: readonly ZoneRef[], now: number): AlertInput {
  const info = preferredInfo(msg);
  if (!info) throw new AppError('CAP_INVALID', 'missing info');
  const targetZoneIds = capZones(info, zones);
  if (targetZoneIds.length === 0) {
    const tried = info.areas.flatMap((a) => [...a.geocodes.map((g) => g.value), a.areaDesc]);
    throw new AppError('CAP_NO_ZONE', tried.slice(0, 10).join(', '));
  }
  if (targetZoneIds.length > 200) throw new AppError('CAP_INVALID', `${targetZoneIds.length} target zones; at most 200`);
  if (info.expires !== null && info.expires <= now) throw new AppError('CAP_INVALID', 'expires is in the past');
  const ttl = info.expires === null ? CAP_DEFAULT_TTL_MINUTES : Math.ceil((info.expires - now) / 60_000);
  const text = [info.description, info.instruction].filter((t): t is string => t !== null).join('\n\n');
  return {
    severity: capSeverity(info.severity),
    title: clip(info.headline ?? info.event, 60),
    text: clip(text, 2000),
    mediaHash: null,
    targetZoneIds,
    ttlMinutes: Math.min(ALERT_POLICY.maxTtlMinutes, Math.max(ALERT_POLICY.minTtlMinutes, ttl)),
  };
}
