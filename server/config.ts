import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AUDIT_MIN_RETENTION_MONTHS, BINZHOU_NAMING, DEFAULT_MM_PER_METRE, PASSWORD_MIN_LENGTH, DEFAULT_TIME_ZONE, isValidTimeZone, type ZoneNaming } from '../content/index.js';

/** Everything the server reads from the environment, validated once at start. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly timeZone: string;
  /** The address players and staff reach the server at, used in printed URLs. */
  readonly publicUrl: string | null;
  readonly tls: { readonly cert: Buffer; readonly key: Buffer } | null;
  readonly naming: ZoneNaming;
  /** Seed the demo city on a first start with an empty store. */
  readonly demo: boolean;
  readonly logLevel: string;
  /** Millimetres of character height per metre of viewing distance (legibility rule). */
  readonly mmPerMetre: number;
  /** Enables the benchmark-only broadcast route; never set in production. */
  readonly benchRoutes: boolean;
  /** Months audit log files are kept before pruning; at least AUDIT_MIN_RETENTION_MONTHS. */
  readonly auditRetentionMonths: number;
  /** The first admin's password (ZONECAST_ADMIN_PASSWORD); generated and printed once when unset. */
  readonly adminPassword: string | null;
  /** Seconds without a heartbeat after which a screen is marked offline; at least OFFLINE_AFTER_MIN_S. */
  readonly offlineAfterS: number;
  /** Runs the housekeeping jobs (heartbeat sweep, retention, alert retries) on their schedules. */
  readonly jobs: boolean;
  /**
   * Serve the player from this built directory instead of dist/player (ZONECAST_PLAYER_DIR): a
   * player build kept elsewhere, e.g. a tested version, or one test's own copy it updates.
   */
  readonly playerDir: string | null;
}

/** The shortest silence that may mark a screen offline. */
// Players beat every 30 s and last-seen is stored at most every 30 s: below 90 s a live screen could look silent.
export const OFFLINE_AFTER_MIN_S = 90;

/** A configuration problem, reported before anything starts. */
export class ConfigError extends Error {}

function parsePort(v: string | undefined): number {
  if (v === undefined || v === '') return 8080;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`PORT must be 0–65535, got "${v}"`);
  return n;
}

function parseBool(name: string, v: string | undefined, dflt: boolean): boolean {
  if (v === undefined || v === '') return dflt;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(`${name} must be true or false, got "${v}"`);
}

function parseNaming(v: string | undefined): ZoneNaming {
  if (v === undefined || v === '') return BINZHOU_NAMING;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new ConfigError('ZONECAST_NAMING must be JSON like {"city":"{city}政务公开专区","town":"…","village":"…"}');
  }
  const o = parsed as Partial<Record<keyof ZoneNaming, unknown>>;
  for (const k of ['city', 'town', 'village'] as const) {
    if (typeof o[k] !== 'string') throw new ConfigError(`ZONECAST_NAMING.${k} must be a string template`);
  }
  return { city: String(o.city), town: String(o.town), village: String(o.village) };
}

function parseRetention(v: string | undefined): number {
  if (v === undefined || v === '') return 12;
  const n = Number(v);
  // The law sets the floor; a shorter setting is refused rather than silently raised.
  if (!Number.isInteger(n) || n < AUDIT_MIN_RETENTION_MONTHS) {
    throw new ConfigError(`ZONECAST_AUDIT_RETENTION_MONTHS must be a whole number of at least ${AUDIT_MIN_RETENTION_MONTHS}, got "${v}"`);
  }
  return n;
}

function parseOfflineAfter(v: string | undefined): number {
  if (v === undefined || v === '') return 90;
  const n = Number(v);
  if (!Number.isInteger(n) || n < OFFLINE_AFTER_MIN_S) throw new ConfigError(`ZONECAST_OFFLINE_AFTER_S must be a whole number of seconds, at least ${OFFLINE_AFTER_MIN_S}, got "${v}"`);
  return n;
}

function parseAdminPassword(v: string | undefined): string | null {
  if (!v) return null;
  if (v.length < PASSWORD_MIN_LENGTH || v.toLowerCase().includes('admin')) throw new ConfigError(`ZONECAST_ADMIN_PASSWORD must have at least ${PASSWORD_MIN_LENGTH} characters and not contain "admin"`);
  return v;
}

/** Reads and checks the configuration; throws ConfigError with a readable message. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const timeZone = env.ZONECAST_TZ || DEFAULT_TIME_ZONE;
  if (!isValidTimeZone(timeZone)) throw new ConfigError(`ZONECAST_TZ "${timeZone}" is not an IANA time zone`);
  const certPath = env.TLS_CERT || '';
  const keyPath = env.TLS_KEY || '';
  if (Boolean(certPath) !== Boolean(keyPath)) throw new ConfigError('Set both TLS_CERT and TLS_KEY, or neither');
  let tls: Config['tls'] = null;
  if (certPath && keyPath) {
    try {
      tls = { cert: readFileSync(certPath), key: readFileSync(keyPath) };
    } catch (e) {
      throw new ConfigError(`Cannot read TLS_CERT/TLS_KEY: ${(e as Error).message}`);
    }
  }
  const publicUrl = env.PUBLIC_URL ? env.PUBLIC_URL.replace(/\/+$/, '') : null;
  if (publicUrl && !/^https?:\/\/[^/]+/.test(publicUrl)) throw new ConfigError(`PUBLIC_URL must start with http:// or https://, got "${publicUrl}"`);
  const mmPerMetre = env.ZONECAST_MM_PER_METRE ? Number(env.ZONECAST_MM_PER_METRE) : DEFAULT_MM_PER_METRE;
  if (!Number.isFinite(mmPerMetre) || mmPerMetre < 2 || mmPerMetre > 40) throw new ConfigError(`ZONECAST_MM_PER_METRE must be a number from 2 to 40, got "${env.ZONECAST_MM_PER_METRE}"`);
  return {
    port: parsePort(env.PORT),
    mmPerMetre,
    host: env.HOST || '0.0.0.0',
    dataDir: path.resolve(env.DATA_DIR || 'data'),
    timeZone,
    publicUrl,
    tls,
    naming: parseNaming(env.ZONECAST_NAMING),
    demo: parseBool('ZONECAST_DEMO', env.ZONECAST_DEMO, true),
    logLevel: env.LOG_LEVEL || 'info',
    benchRoutes: parseBool('ZONECAST_BENCH_ROUTES', env.ZONECAST_BENCH_ROUTES, false),
    auditRetentionMonths: parseRetention(env.ZONECAST_AUDIT_RETENTION_MONTHS),
    adminPassword: parseAdminPassword(env.ZONECAST_ADMIN_PASSWORD),
    offlineAfterS: parseOfflineAfter(env.ZONECAST_OFFLINE_AFTER_S),
    jobs: parseBool('ZONECAST_JOBS', env.ZONECAST_JOBS, true),
    playerDir: env.ZONECAST_PLAYER_DIR ? path.resolve(env.ZONECAST_PLAYER_DIR) : null,
  };
}
