import { Type, type Static } from 'typebox';
import { IdSchema } from './common.js';
import { ancestry, type Zone } from './zone.js';

/**
 * Staff roles. A city admin runs the system; editors write content and design what screens
 * show; reviewers approve what editors submit (发布审核); inspectors read everything in their
 * area, the audit log included, and change nothing.
 */
export const ROLES = ['city-admin', 'editor', 'reviewer', 'inspector'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = Type.Enum(ROLES);

export const ROLE_LABELS: Record<Role, { zh: string; en: string }> = {
  'city-admin': { zh: '市级管理员', en: 'City admin' },
  editor: { zh: '编辑', en: 'Editor' },
  reviewer: { zh: '审核员', en: 'Reviewer' },
  inspector: { zh: '巡查员(只读)', en: 'Inspector (read-only)' },
};

/** What a request or socket event may need. Scope (the zone subtree) is checked separately. */
export const PERMISSIONS = [
  'read',
  'zone:write',
  'screen:write',
  'screen:pair',
  'content:write',
  'content:review',
  'layout:write',
  'playlist:write',
  'schedule:write',
  'media:write',
  'user:admin',
  'audit:read',
  'alert:send',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  'city-admin': PERMISSIONS,
  editor: ['read', 'screen:write', 'content:write', 'layout:write', 'playlist:write', 'schedule:write', 'media:write', 'alert:send'],
  reviewer: ['read', 'content:review'],
  inspector: ['read', 'audit:read'],
};

/** Permissions that also need the user to be bound at city level (or to the whole system). */
export const CITY_LEVEL_PERMISSIONS: readonly Permission[] = ['alert:send', 'zone:write', 'screen:pair', 'user:admin'];

const UsernameSchema = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{2,31}$', description: '3–32 lower-case letters, digits, dot, dash, underscore' });
export const PASSWORD_MIN_LENGTH = 10;
export const PasswordSchema = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: 128 });

/** True when a password is too weak to accept: too short, or containing the username. */
export function passwordWeak(password: string, username: string): boolean {
  return password.length < PASSWORD_MIN_LENGTH || (username.length > 0 && password.toLowerCase().includes(username.toLowerCase()));
}

const userFields = {
  username: UsernameSchema,
  displayName: Type.String({ minLength: 1, maxLength: 40 }),
  role: RoleSchema,
  zoneId: Type.Union([IdSchema, Type.Null()], { description: 'The zone whose subtree the user acts in; null (city admins only) is the whole system' }),
  disabled: Type.Boolean(),
};

/** A staff account as the API shows it; the password hash never leaves the server. */
export const UserSchema = Type.Object(
  { id: IdSchema, ...userFields, createdAt: Type.String(), updatedAt: Type.String(), passwordChangedAt: Type.String() },
  { additionalProperties: false },
);
export type User = Static<typeof UserSchema>;

/** What any staff member may know of a colleague: who wrote or reviewed something. */
export const UserNameSchema = Type.Object({ id: IdSchema, username: Type.String(), displayName: Type.String() }, { additionalProperties: false });
export type UserName = Static<typeof UserNameSchema>;

export const UserCreateSchema = Type.Object(
  { id: Type.Optional(IdSchema), ...userFields, disabled: Type.Optional(Type.Boolean()), password: PasswordSchema },
  { additionalProperties: false },
);
export type UserCreate = Static<typeof UserCreateSchema>;

/** What an admin may change on an account: name, role, zone, and whether it is disabled. */
export const UserPatchSchema = Type.Object(
  {
    displayName: Type.Optional(userFields.displayName),
    role: Type.Optional(RoleSchema),
    zoneId: Type.Optional(userFields.zoneId),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UserPatch = Static<typeof UserPatchSchema>;

export const PasswordResetSchema = Type.Object({ password: PasswordSchema }, { additionalProperties: false });

export const LoginSchema = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);
export type Login = Static<typeof LoginSchema>;

export const PasswordChangeSchema = Type.Object({ current: Type.String({ minLength: 1, maxLength: 128 }), next: PasswordSchema }, { additionalProperties: false });
export type PasswordChange = Static<typeof PasswordChangeSchema>;

/** Who is logged in, with what they may do, so the composer can show only what will work. */
export const MeSchema = Type.Object(
  {
    user: UserSchema,
    permissions: Type.Array(Type.Enum(PERMISSIONS)),
    cityLevel: Type.Boolean({ description: 'Bound to a city-tier zone or to the whole system' }),
  },
  { additionalProperties: false },
);
export type Me = Static<typeof MeSchema>;

/** Login throttling: failures per account before a lockout, and per client address. */
export const LOGIN_POLICY = {
  /** Failures of one account within the window that lock it. */
  maxFailures: 5,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
  /** Failures from one address within the window before it must wait (guessing many accounts). */
  maxFailuresPerAddress: 20,
} as const;

/** Session lifetime: idle timeout and absolute lifetime. */
export const SESSION_POLICY = { idleMs: 2 * 60 * 60_000, absoluteMs: 12 * 60 * 60_000, cookie: 'zc_session' } as const;

type ZoneMap = ReadonlyMap<string, Pick<Zone, 'id' | 'parentId' | 'tier'>>;
type Actor = Pick<User, 'role' | 'zoneId' | 'disabled'>;

/** True when the role grants `permission` (ignoring scope). */
export function hasPermission(user: Actor, permission: Permission): boolean {
  return !user.disabled && ROLE_PERMISSIONS[user.role].includes(permission);
}

/** True when the user is bound to the whole system or to a city-tier zone. */
export function isCityLevel(user: Pick<User, 'zoneId'>, zones: ZoneMap): boolean {
  return user.zoneId === null || zones.get(user.zoneId)?.tier === 'city';
}

/** True when `zoneId` lies in the user's own subtree: where they may act. */
export function inSubtree(user: Pick<User, 'zoneId'>, zoneId: string, zones: ZoneMap): boolean {
  if (user.zoneId === null) return true;
  return ancestry(zoneId, zones).some((z) => z.id === user.zoneId);
}

/**
 * True when the user may read things owned by `zoneId`: their own subtree, and the zones
 * above them, whose layouts, playlists and published content reach their screens.
 */
export function canReadZone(user: Pick<User, 'zoneId'>, zoneId: string, zones: ZoneMap): boolean {
  if (inSubtree(user, zoneId, zones)) return true;
  return user.zoneId !== null && ancestry(user.zoneId, zones).some((z) => z.id === zoneId);
}

/** Why `permission` in `zoneId` is refused, or null when it is allowed. */
export function denial(user: Actor, permission: Permission, zoneId: string | null, zones: ZoneMap): 'FORBIDDEN_ROLE' | 'FORBIDDEN_SCOPE' | null {
  if (!hasPermission(user, permission)) return 'FORBIDDEN_ROLE';
  if (CITY_LEVEL_PERMISSIONS.includes(permission) && !isCityLevel(user, zones)) return 'FORBIDDEN_ROLE';
  if (zoneId === null) return null;
  const ok = permission === 'read' ? canReadZone(user, zoneId, zones) : inSubtree(user, zoneId, zones);
  return ok ? null : 'FORBIDDEN_SCOPE';
}

/** A city admin must be bound to a city-tier zone or to the whole system; others to a zone. */
export function roleZoneValid(role: Role, zoneId: string | null, zones: ZoneMap): boolean {
  if (zoneId === null) return role === 'city-admin';
  const zone = zones.get(zoneId);
  if (!zone) return false;
  return role !== 'city-admin' || zone.tier === 'city';
}

/**
 * API tokens, for machine clients such as an early-warning system's CAP feed. A token acts
 * exactly as the account it belongs to (same role, same zone, same audit trail) and stops
 * working when revoked or when the account is disabled. Only its SHA-256 is stored.
 */
export const API_TOKEN_PREFIX = 'zct_';

export const ApiTokenSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String({ description: 'What the token is for, e.g. 省气象台 CAP 推送' }),
    userId: IdSchema,
    createdAt: Type.String(),
    lastUsedAt: Type.Union([Type.String(), Type.Null()], { description: 'Updated at most once a minute' }),
    revokedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ApiToken = Static<typeof ApiTokenSchema>;

export const ApiTokenCreateSchema = Type.Object({ name: Type.String({ minLength: 1, maxLength: 60 }) }, { additionalProperties: false });
export type ApiTokenCreate = Static<typeof ApiTokenCreateSchema>;

/** A new token with its secret, which is shown this once and never again. */
export const ApiTokenCreatedSchema = Type.Object(
  {
    token: ApiTokenSchema,
    secret: Type.String({ description: 'Send as `Authorization: Bearer <secret>`; shown only once' }),
  },
  { additionalProperties: false },
);
export type ApiTokenCreated = Static<typeof ApiTokenCreatedSchema>;
