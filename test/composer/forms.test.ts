import { describe, expect, it } from 'vitest';
import { ClockSchema, PairingClaimSchema, ScreenInputSchema, UserCreateSchema, type Zone } from '../../content/index.js';
import { ApiError, errorField, isAuthExpiry } from '../../composer/src/lib/api-error.js';
import { checkValue, limitOf } from '../../composer/src/lib/validate.js';
import { subtreeIds, watchRoots, zoneForest } from '../../composer/src/lib/zones.js';

describe('form checks from the content/ schemas', () => {
  it('asks for a required value and lets an optional one be blank', () => {
    expect(checkValue(UserCreateSchema.properties.displayName, '')).toEqual({ key: 'required' });
    expect(checkValue(UserCreateSchema.properties.displayName, '   ')).toEqual({ key: 'required' });
    expect(checkValue(ScreenInputSchema.properties.width, null)).toEqual({ key: 'required' });
    expect(checkValue(UserCreateSchema.properties.displayName, '', true)).toBeNull();
  });

  it('reports the limit a password or a size breaks, as typed', () => {
    expect(checkValue(UserCreateSchema.properties.password, 'short')).toEqual({ key: 'minLength', limit: 10 });
    expect(checkValue(UserCreateSchema.properties.password, 'long enough!')).toBeNull();
    expect(checkValue(ScreenInputSchema.properties.width, 8)).toEqual({ key: 'minimum', limit: 16 });
    expect(checkValue(ScreenInputSchema.properties.pixelPitchMm, 0)).toEqual({ key: 'exclusiveMinimum', limit: 0 });
  });

  it('checks patterns: usernames, six-digit pairing codes, clock times', () => {
    expect(checkValue(UserCreateSchema.properties.username, 'Zhang San')).toEqual({ key: 'pattern' });
    expect(checkValue(UserCreateSchema.properties.username, 'zhang.san')).toBeNull();
    expect(checkValue(PairingClaimSchema.properties.code, '12345')).toEqual({ key: 'pattern' });
    expect(checkValue(PairingClaimSchema.properties.code, '123456')).toBeNull();
    expect(checkValue(ClockSchema, '8:30')).toEqual({ key: 'pattern' });
    expect(checkValue(ClockSchema, '24:00')).toBeNull();
  });

  it('reads input limits from the schemas', () => {
    expect(limitOf(ScreenInputSchema.properties.name, 'maxLength')).toBe(60);
    expect(limitOf(ScreenInputSchema.properties.width, 'maximum')).toBe(16384);
    expect(limitOf(ScreenInputSchema.properties.name, 'maximum')).toBeUndefined();
  });
});

describe('server errors', () => {
  it('reads the error body and falls back to the code table', () => {
    const e = ApiError.from(409, { ok: false, code: 'USERNAME_TAKEN', message: { zh: '用户名已被使用', en: 'That username is taken' } });
    expect([e.code, e.text?.zh]).toEqual(['USERNAME_TAKEN', '用户名已被使用']);
    expect(ApiError.from(403, { ok: false, code: 'PASSWORD_WRONG' }).text?.zh).toBe('当前密码不正确');
    expect(ApiError.from(502, '<html>').code).toBe('INTERNAL');
  });

  it('tells an expired session from other failures', () => {
    expect(isAuthExpiry(ApiError.from(401, { code: 'SESSION_EXPIRED' }))).toBe(true);
    expect(isAuthExpiry(ApiError.from(401, { code: 'LOGIN_FAILED' }))).toBe(false);
    expect(isAuthExpiry(ApiError.network())).toBe(false);
  });

  it('puts an error beside the field it is about', () => {
    const fields = ['username', 'zoneId', 'password', 'width'];
    expect(errorField(ApiError.from(409, { code: 'USERNAME_TAKEN' }), fields)).toBe('username');
    expect(errorField(ApiError.from(422, { code: 'ROLE_ZONE_INVALID' }), fields)).toBe('zoneId');
    expect(errorField(ApiError.from(400, { code: 'VALIDATION_FAILED', detail: '/screen/width must be <= 16384' }), fields)).toBe('width');
    expect(errorField(ApiError.from(409, { code: 'LAST_ADMIN' }), fields)).toBeNull();
  });
});

describe('zone tree', () => {
  const zones: Zone[] = [
    { id: 'v2', tier: 'village', parentId: 'town', divisionCode: '610482101202', shortName: '丁家村', name: '彬州市北极镇丁家村政务公开专区' },
    { id: 'town', tier: 'town', parentId: 'city', divisionCode: '610482101000', shortName: '北极镇', name: '彬州市北极镇政务公开专区' },
    { id: 'v1', tier: 'village', parentId: 'town', divisionCode: '610482101201', shortName: '坡头村', name: '彬州市北极镇坡头村政务公开专区' },
    { id: 'city', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市', name: '彬州市政务公开专区' },
    { id: 'street', tier: 'town', parentId: 'city', divisionCode: '610482001000', shortName: '城关街道', name: '彬州市城关街道政务公开专区' },
  ];

  it('nests city → towns → villages in division-code order', () => {
    const [city] = zoneForest(zones);
    expect(city?.id).toBe('city');
    expect(city?.children.map((n) => n.id)).toEqual(['street', 'town']);
    expect(city?.children[1]?.children.map((n) => n.label)).toEqual(['坡头村', '丁家村']);
  });

  it('makes a zone whose parent is not readable a root', () => {
    expect(zoneForest(zones.filter((z) => z.id !== 'city')).map((n) => n.id)).toEqual(['street', 'town']);
  });

  it('watches the user’s own zone, or every root for a user bound to the whole system', () => {
    expect(watchRoots('town', zones)).toEqual(['town']);
    expect(watchRoots(null, zones)).toEqual(['city']);
    expect([...subtreeIds('town', zones)].sort()).toEqual(['town', 'v1', 'v2']);
  });
});
