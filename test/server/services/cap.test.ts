import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALERT_POLICY, type Zone } from '../../../content/index.js';
import { AppError } from '../../../server/errors.js';
import { CAP_DEFAULT_TTL_MINUTES, capAlertInput, capSeverity, capZones, decodeCapBody, divisionPrefix, parseCap, preferredInfo } from '../../../server/services/cap.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/cap/${name}`, import.meta.url), 'utf8');

const ZONES: Zone[] = [
  { id: 'binzhou', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市', name: '彬州市政务公开专区' },
  { id: 'chengguan', tier: 'town', parentId: 'binzhou', divisionCode: '610482001000', shortName: '城关街道', name: '彬州市城关街道政务公开专区' },
  { id: 'beiji', tier: 'town', parentId: 'binzhou', divisionCode: '610482101000', shortName: '北极镇', name: '彬州市北极镇政务公开专区' },
  { id: 'poutou', tier: 'village', parentId: 'beiji', divisionCode: '610482101201', shortName: '坡头村', name: '彬州市北极镇坡头村政务公开专区' },
  { id: 'xunyi', tier: 'city', parentId: null, divisionCode: '610429000000', shortName: '旬邑县', name: '旬邑县政务公开专区' },
  { id: 'xunyi-town', tier: 'town', parentId: 'xunyi', divisionCode: '610429100000', shortName: '城关镇', name: '旬邑县城关镇政务公开专区' },
  { id: 'changwu-town', tier: 'town', parentId: 'xunyi', divisionCode: '610429101000', shortName: '城关镇', name: '长武县城关镇政务公开专区' },
];

/** The code of what `fn` throws, for asserting refusals. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  return 'no error';
}

/** A minimal valid CAP 1.2 Alert with `info` inside. */
const alertWith = (info: string, head = '') => `<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>T-1</identifier><sender>test</sender><sent>2026-07-12T08:30:00+08:00</sent>
  <status>Actual</status><msgType>Alert</msgType><scope>Public</scope>${head}
  <info><event>暴雨</event><urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty>${info}</info>
</alert>`;
const area = '<area><areaDesc>彬州市</areaDesc><geocode><valueName>GB/T 2260</valueName><value>610482000000</value></geocode></area>';

describe('parsing CAP 1.2', () => {
  it('reads a provincial observatory’s heavy-rain warning and prefers its Chinese info', () => {
    const msg = parseCap(fixture('heavy-rain-alert.xml'));
    expect(msg).toMatchObject({ identifier: '61000041600000_20260712083000', sender: '61000041600000', status: 'Actual', msgType: 'Alert', scope: 'Public', references: [] });
    expect(msg.info.map((i) => i.language)).toEqual(['en-US', 'zh-CN']);
    expect(preferredInfo(msg)).toMatchObject({ event: '暴雨', severity: 'Severe', headline: '陕西省气象台发布暴雨橙色预警信号', expires: Date.parse('2026-07-12T14:30:00+08:00') });
    expect(preferredInfo(msg)?.areas).toEqual([{ areaDesc: '彬州市', geocodes: [{ valueName: 'GB/T 2260', value: '610482000000' }] }]);
  });

  it('maps it to a severe broadcast to the city for the six hours until it expires', () => {
    const input = capAlertInput(parseCap(fixture('heavy-rain-alert.xml')), ZONES, Date.parse('2026-07-12T08:30:00+08:00'));
    expect(input).toMatchObject({ severity: 'severe', title: '陕西省气象台发布暴雨橙色预警信号', mediaHash: null, targetZoneIds: ['binzhou'], ttlMinutes: 360 });
    expect(input.text).toMatch(/^预计未来6小时内,彬州市.*\n\n1\. 切断有危险的室外电源/s);
  });

  it('reads references of an Update and a Cancel, which needs no info', () => {
    expect(parseCap(fixture('heavy-rain-update.xml')).references).toEqual([
      { sender: '61000041600000', identifier: '61000041600000_20260712083000', sent: '2026-07-12T08:30:00+08:00' },
    ]);
    expect(parseCap(fixture('heavy-rain-cancel.xml')).references.map((r) => r.identifier)).toEqual(['61000041600000_20260712083000', '61000041600000_20260712113000']);
    const bare = fixture('heavy-rain-cancel.xml').replace(/<info>[\s\S]*<\/info>/, '');
    expect(parseCap(bare)).toMatchObject({ msgType: 'Cancel', info: [] });
  });

  it('reads a prefixed cap: namespace and matches the area by its name', () => {
    const msg = parseCap(fixture('area-desc-only.xml'));
    expect(msg.identifier).toBe('61048241600000_20260713150000');
    expect(capAlertInput(msg, ZONES, Date.parse('2026-07-13T15:00:00+08:00'))).toMatchObject({ severity: 'moderate', title: '彬州市气象台发布大风黄色预警信号', targetZoneIds: ['beiji'], ttlMinutes: CAP_DEFAULT_TTL_MINUTES });
  });

  it('decodes the predefined entities and character references', () => {
    const info = preferredInfo(parseCap(alertWith(`<headline>雷电 &amp; 冰雹 &#x9884;&#35686;</headline>${area}`)));
    expect(info?.headline).toBe('雷电 & 冰雹 预警');
  });

  it('refuses a DOCTYPE or an entity declaration before parsing, in any case', () => {
    expect(codeOf(() => parseCap(fixture('billion-laughs.xml')))).toBe('CAP_UNSAFE_XML');
    expect(codeOf(() => parseCap(fixture('xxe.xml')))).toBe('CAP_UNSAFE_XML');
    expect(codeOf(() => parseCap(`<!doctype alert>${alertWith(area)}`))).toBe('CAP_UNSAFE_XML');
    expect(codeOf(() => parseCap(alertWith(`<!-- <!Entity x "y"> -->${area}`)))).toBe('CAP_UNSAFE_XML');
  });

  it('refuses XML that is not well-formed, has undeclared entities or several roots', () => {
    expect(codeOf(() => parseCap(fixture('malformed.xml')))).toBe('CAP_MALFORMED');
    expect(codeOf(() => parseCap(alertWith(`<headline>&nbsp;</headline>${area}`)))).toBe('CAP_MALFORMED');
    expect(codeOf(() => parseCap(`${alertWith(area)}${alertWith(area)}`))).toBe('CAP_MALFORMED');
    expect(codeOf(() => parseCap('not xml at all'))).toBe('CAP_MALFORMED');
    expect(codeOf(() => parseCap(''))).toBe('CAP_MALFORMED');
  });

  it('refuses CAP 1.1 and other roots', () => {
    expect(codeOf(() => parseCap(fixture('cap-1.1.xml')))).toBe('CAP_NAMESPACE');
    expect(codeOf(() => parseCap('<alert><identifier>x</identifier></alert>'))).toBe('CAP_NAMESPACE');
    expect(codeOf(() => parseCap('<feed xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>'))).toBe('CAP_NAMESPACE');
    expect(codeOf(() => parseCap('<cap:alert xmlns="urn:oasis:names:tc:emergency:cap:1.2" xmlns:cap="urn:other"/>'))).toBe('CAP_NAMESPACE');
  });

  it('names what is missing or invalid', () => {
    const err = (() => {
      try {
        parseCap(alertWith('<area><areaDesc>彬州市</areaDesc></area>').replace('<sender>test</sender>', '').replace('Likely', 'Sure'));
      } catch (e) {
        return e as AppError;
      }
      return null;
    })();
    expect(err?.code).toBe('CAP_INVALID');
    expect(err?.detail).toContain('missing sender');
    expect(err?.detail).toContain('info[0]/certainty "Sure"');
    expect(codeOf(() => parseCap(alertWith('')))).toBe('CAP_INVALID');
    expect(codeOf(() => parseCap(alertWith(area).replace('<info>', '<!-- no info -->').replace('</info>', '').replace(/<event>.*<\/certainty>/, '')))).toBe('CAP_INVALID');
    expect(codeOf(() => parseCap(alertWith(area).replace('<msgType>Alert', '<msgType>Update')))).toBe('CAP_INVALID');
    expect(codeOf(() => parseCap(alertWith(area, '<references>only-two,parts</references>')))).toBe('CAP_INVALID');
    expect(codeOf(() => parseCap(alertWith(area).replace('<identifier>T-1', '<identifier>T 1')))).toBe('CAP_INVALID');
    expect(codeOf(() => parseCap(alertWith(`<expires>tomorrow</expires>${area}`)))).toBe('CAP_INVALID');
  });
});

describe('mapping CAP to a broadcast', () => {
  const now = Date.parse('2026-07-12T08:30:00+08:00');
  const info = (...codes: string[]) => ({ areas: [{ areaDesc: '', geocodes: codes.map((value) => ({ valueName: 'GB/T 2260', value })) }] });

  it('reads division codes of 6, 9 and 12 digits down to their last non-zero level', () => {
    expect(divisionPrefix('610482000000')).toBe('610482');
    expect(divisionPrefix('610482')).toBe('610482');
    expect(divisionPrefix('610400')).toBe('6104');
    expect(divisionPrefix('610000')).toBe('61');
    expect(divisionPrefix('610482101')).toBe('610482101');
    expect(divisionPrefix('610482101201')).toBe('610482101201');
    expect(divisionPrefix('000000')).toBeNull();
    expect(divisionPrefix('6104821')).toBeNull();
    expect(divisionPrefix('61048a')).toBeNull();
  });

  it('targets the topmost zones inside the division a geocode names', () => {
    expect(capZones(info('610482000000'), ZONES)).toEqual(['binzhou']);
    expect(capZones(info('610482'), ZONES)).toEqual(['binzhou']);
    expect(capZones(info('610482101000'), ZONES)).toEqual(['beiji']);
    expect(capZones(info('610482101201'), ZONES)).toEqual(['poutou']);
    // A prefecture (咸阳市 6104) or the province covers both cities.
    expect(capZones(info('610400'), ZONES)).toEqual(['binzhou', 'xunyi']);
    expect(capZones(info('610000000000'), ZONES)).toEqual(['binzhou', 'xunyi']);
    // A town and the city it lies in: the city covers it.
    expect(capZones(info('610482101000', '610482000000'), ZONES)).toEqual(['binzhou']);
    expect(capZones(info('110101000000', 'SAME-1'), ZONES)).toEqual([]);
  });

  it('falls back to area names, by short name, full name or path, but not an ambiguous one', () => {
    const desc = (areaDesc: string) => ({ areas: [{ areaDesc, geocodes: [] }] });
    expect(capZones(desc('北极镇'), ZONES)).toEqual(['beiji']);
    expect(capZones(desc('彬州市北极镇'), ZONES)).toEqual(['beiji']);
    expect(capZones(desc('彬州市城关街道政务公开专区'), ZONES)).toEqual(['chengguan']);
    expect(capZones(desc('城关街道、北极镇坡头村;北极镇'), ZONES)).toEqual(['chengguan', 'beiji']);
    expect(capZones(desc('城关镇'), ZONES)).toEqual([]);
    expect(capZones(desc('东城区'), ZONES)).toEqual([]);
    // A geocode that matches wins over the name.
    expect(capZones({ areas: [{ areaDesc: '北极镇', geocodes: [{ valueName: 'ADCODE', value: '610482001000' }] }] }, ZONES)).toEqual(['chengguan']);
  });

  it('maps CAP severities, Unknown as moderate', () => {
    expect(['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'].map((s) => capSeverity(s as 'Unknown'))).toEqual(['extreme', 'severe', 'moderate', 'minor', 'moderate']);
  });

  it('refuses a message whose areas match no zone, or that has already expired', () => {
    const other = alertWith('<area><areaDesc>东城区</areaDesc><geocode><valueName>GB/T 2260</valueName><value>110101</value></geocode></area>');
    expect(codeOf(() => capAlertInput(parseCap(other), ZONES, now))).toBe('CAP_NO_ZONE');
    expect(codeOf(() => capAlertInput(parseCap(alertWith(`<expires>2026-07-12T08:00:00+08:00</expires>${area}`)), ZONES, now))).toBe('CAP_INVALID');
  });

  it('keeps the time to live within the alert policy and the text within its limits', () => {
    const far = capAlertInput(parseCap(alertWith(`<expires>2027-01-01T00:00:00+08:00</expires>${area}`)), ZONES, now);
    expect(far.ttlMinutes).toBe(ALERT_POLICY.maxTtlMinutes);
    const soon = capAlertInput(parseCap(alertWith(`<expires>2026-07-12T08:30:20+08:00</expires>${area}`)), ZONES, now);
    expect(soon.ttlMinutes).toBe(ALERT_POLICY.minTtlMinutes);
    const long = capAlertInput(parseCap(alertWith(`<headline>${'暴雨'.repeat(40)}</headline><description>${'雨'.repeat(3000)}</description>${area}`)), ZONES, now);
    expect(long.title).toHaveLength(60);
    expect(long.title.endsWith('…')).toBe(true);
    expect(long.text).toHaveLength(2000);
    // Without a headline the event is the title; control characters are dropped.
    expect(capAlertInput(parseCap(alertWith(`<description>第一行&#x7;\r\n第二行</description>${area}`)), ZONES, now)).toMatchObject({ title: '暴雨', text: '第一行\n第二行' });
  });
});

describe('decoding a CAP body', () => {
  const xml = '<?xml version="1.0" encoding="GB18030"?><a>彬州</a>';
  // 彬州 in GBK/GB18030.
  const gbk = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="GB18030"?><a>', 'latin1'), Buffer.from([0xb1, 0xf2, 0xd6, 0xdd]), Buffer.from('</a>')]);

  it('reads UTF-8 by default, with or without a byte-order mark', () => {
    expect(decodeCapBody(Buffer.from('<a>彬州</a>'), 'application/cap+xml')).toBe('<a>彬州</a>');
    expect(decodeCapBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<a>彬州</a>')]), undefined)).toBe('<a>彬州</a>');
  });

  it('reads GB18030 declared in the XML or in the Content-Type', () => {
    expect(decodeCapBody(gbk, 'application/xml')).toBe(xml);
    expect(decodeCapBody(Buffer.from([0x3c, 0x61, 0x3e, 0xb1, 0xf2, 0x3c, 0x2f, 0x61, 0x3e]), 'text/xml; charset=GBK')).toBe('<a>彬</a>');
  });

  it('refuses unknown encodings and bytes that are not what they claim', () => {
    expect(codeOf(() => decodeCapBody(Buffer.from('<a/>'), 'application/xml; charset=klingon'))).toBe('UNSUPPORTED_CONTENT_TYPE');
    expect(codeOf(() => decodeCapBody(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0x3c]), 'application/xml'))).toBe('CAP_MALFORMED');
  });
});
