import { describe, expect, it } from 'vitest';
import { BINZHOU_NAMING, ancestry, checkZone, isWithin, zoneName, type Zone } from '../../content/index.js';

const zones: Zone[] = [
  { id: 'city', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市', name: '' },
  { id: 'town', tier: 'town', parentId: 'city', divisionCode: '610482101000', shortName: '北极镇', name: '' },
  { id: 'street', tier: 'town', parentId: 'city', divisionCode: '610482001000', shortName: '城关街道', name: '' },
  { id: 'village', tier: 'village', parentId: 'town', divisionCode: '610482101201', shortName: '坡头村', name: '' },
];
const byId = new Map(zones.map((z) => [z.id, z]));
const z = (id: string): Zone => {
  const found = byId.get(id);
  if (!found) throw new Error(id);
  return found;
};

describe('zone naming', () => {
  it('names zones by Binzhou’s rule at each tier', () => {
    expect(zoneName(z('city'), byId)).toBe('彬州市政务公开专区');
    expect(zoneName(z('street'), byId)).toBe('彬州市城关街道政务公开专区');
    expect(zoneName(z('village'), byId)).toBe('彬州市北极镇坡头村政务公开专区');
  });

  it('takes another city’s template from configuration', () => {
    const naming = { ...BINZHOU_NAMING, village: '{village}({town})政务公开专区' };
    expect(zoneName(z('village'), byId, naming)).toBe('坡头村(北极镇)政务公开专区');
  });
});

describe('zone tree', () => {
  it('lists ancestors nearest first and answers subtree membership', () => {
    expect(ancestry('village', byId).map((x) => x.id)).toEqual(['village', 'town', 'city']);
    expect(isWithin('village', 'city', byId)).toBe(true);
    expect(isWithin('village', 'street', byId)).toBe(false);
    expect(isWithin('city', 'village', byId)).toBe(false);
  });

  it('stops on a cycle instead of looping', () => {
    const loop = new Map([
      ['a', { id: 'a', parentId: 'b' }],
      ['b', { id: 'b', parentId: 'a' }],
    ]);
    expect(ancestry('a', loop).map((x) => x.id)).toEqual(['a', 'b']);
  });
});

describe('zone rules', () => {
  it('accepts a well-formed tier and code hierarchy', () => {
    expect(checkZone(z('city'), undefined)).toBeUndefined();
    expect(checkZone(z('town'), z('city'))).toBeUndefined();
    expect(checkZone(z('village'), z('town'))).toBeUndefined();
  });

  it('rejects a parent of the wrong tier', () => {
    expect(checkZone(z('village'), z('city'))).toBe('ZONE_PARENT_INVALID');
    expect(checkZone(z('town'), undefined)).toBe('ZONE_PARENT_INVALID');
    expect(checkZone(z('city'), z('city'))).toBe('ZONE_PARENT_INVALID');
  });

  it('rejects division codes that break the 2-2-2-3-3 hierarchy', () => {
    expect(checkZone({ tier: 'city', divisionCode: '61048200000' }, undefined)).toBe('ZONE_CODE_INVALID');
    expect(checkZone({ tier: 'city', divisionCode: '610482001000' }, undefined)).toBe('ZONE_CODE_INVALID');
    expect(checkZone({ tier: 'town', divisionCode: '610483101000' }, z('city'))).toBe('ZONE_CODE_INVALID');
    expect(checkZone({ tier: 'town', divisionCode: '610482000000' }, z('city'))).toBe('ZONE_CODE_INVALID');
    expect(checkZone({ tier: 'village', divisionCode: '610482102201' }, z('town'))).toBe('ZONE_CODE_INVALID');
    expect(checkZone({ tier: 'village', divisionCode: '610482101000' }, z('town'))).toBe('ZONE_CODE_INVALID');
  });
});
