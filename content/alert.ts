import { Type, type Static } from 'typebox';
import { IdSchema, Sha256Schema } from './common.js';

/**
 * Urgent broadcasts (紧急插播) from the city office. Severities follow OASIS CAP 1.2, so an
 * alert from an official early-warning system maps one to one.
 */
export const ALERT_SEVERITIES = ['extreme', 'severe', 'moderate', 'minor'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export const AlertSeveritySchema = Type.Enum(ALERT_SEVERITIES);

export const ALERT_SEVERITY_LABELS: Record<AlertSeverity, { zh: string; en: string }> = {
  extreme: { zh: '特别严重', en: 'Extreme' },
  severe: { zh: '严重', en: 'Severe' },
  moderate: { zh: '较重', en: 'Moderate' },
  minor: { zh: '一般', en: 'Minor' },
};

/** How a player shows an alert: the whole screen for the gravest, a banner over content otherwise. */
export type AlertPresentation = 'takeover' | 'banner';
export function alertPresentation(severity: AlertSeverity): AlertPresentation {
  return severity === 'extreme' || severity === 'severe' ? 'takeover' : 'banner';
}

/** Colours by severity (red, orange, yellow, blue, as China's warning signals use them). */
export const ALERT_COLOURS: Record<AlertSeverity, { background: string; foreground: string }> = {
  extreme: { background: '#b71c1c', foreground: '#ffffff' },
  severe: { background: '#e65100', foreground: '#ffffff' },
  moderate: { background: '#f9a825', foreground: '#1a1a1a' },
  minor: { background: '#1565c0', foreground: '#ffffff' },
};

/** Limits of an alert's life. */
export const ALERT_POLICY = {
  minTtlMinutes: 1,
  maxTtlMinutes: 7 * 24 * 60,
  /** Undisplayed screens are retried this often, with this many attempts before "unreachable". */
  retryEveryMs: 5_000,
  attemptsBeforeUnreachable: 6,
  /**
   * A player acknowledges 'received' only for an alert it has not displayed this long after it
   * arrived (its glyphs or picture are slow): the board then shows it arrived. One displayed
   * sooner is acknowledged once, 'displayed', which says it arrived as well, so that a fan-in to
   * every screen of a city carries one acknowledgement per screen, not two.
   */
  receivedAckAfterMs: 1_000,
} as const;

/** What a city-level user sends to start an alert. */
export const AlertInputSchema = Type.Object(
  {
    severity: AlertSeveritySchema,
    title: Type.String({ minLength: 1, maxLength: 60 }),
    text: Type.String({ maxLength: 2000 }),
    mediaHash: Type.Union([Sha256Schema, Type.Null()], { description: 'An optional image, uploaded through /api/media first' }),
    targetZoneIds: Type.Array(IdSchema, { minItems: 1, maxItems: 200, uniqueItems: true, description: 'Each target covers the zone and its whole subtree' }),
    ttlMinutes: Type.Integer({ minimum: ALERT_POLICY.minTtlMinutes, maximum: ALERT_POLICY.maxTtlMinutes }),
  },
  { additionalProperties: false },
);
export type AlertInput = Static<typeof AlertInputSchema>;

export const ALERT_STATUSES = ['active', 'cleared', 'expired'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** An alert as stored and listed. */
export const AlertSchema = Type.Object(
  {
    id: IdSchema,
    ...AlertInputSchema.properties,
    source: Type.Enum(['composer', 'cap'] as const),
    /** For CAP alerts: `sender` and `identifier` of the message that started it, for updates and cancels. */
    capRef: Type.Union([Type.Object({ sender: Type.String(), identifier: Type.String() }, { additionalProperties: false }), Type.Null()]),
    /** Bumped when the alert is amended (a CAP Update), so players replace what they show. */
    revision: Type.Integer({ minimum: 1 }),
    createdBy: Type.String(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    expiresAt: Type.String(),
    clearedAt: Type.Union([Type.String(), Type.Null()]),
    clearedBy: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type Alert = Static<typeof AlertSchema>;

/** Whether an alert is on screens at `now` (epoch ms). */
export function alertStatus(alert: Pick<Alert, 'clearedAt' | 'expiresAt'>, now: number): AlertStatus {
  if (alert.clearedAt !== null) return 'cleared';
  return Date.parse(alert.expiresAt) <= now ? 'expired' : 'active';
}

/** What a player gets: everything it needs to draw the alert, offline and after a restart. */
export const AlertShowSchema = Type.Object(
  {
    alertId: IdSchema,
    severity: AlertSeveritySchema,
    presentation: Type.Enum(['takeover', 'banner'] as const),
    title: Type.String(),
    text: Type.String(),
    /** The image prepared for this screen's size, or null. */
    image: Type.Union([Type.Object({ url: Type.String(), sha256: Sha256Schema, width: Type.Integer(), height: Type.Integer() }), Type.Null()]),
    issuedAt: Type.Number({ description: 'epoch ms' }),
    expiresAt: Type.Number({ description: 'epoch ms' }),
    /** Bumped when an alert is amended (CAP Update), so a player replaces what it shows. */
    revision: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type AlertShow = Static<typeof AlertShowSchema>;

/** A player's acknowledgement: `displayed` once the first frame containing the alert was drawn. */
export const AlertAckSchema = Type.Object(
  {
    alertId: IdSchema,
    revision: Type.Integer({ minimum: 1 }),
    stage: Type.Enum(['received', 'displayed'] as const),
    /** The player's server-corrected clock at that moment (epoch ms). */
    at: Type.Number(),
  },
  { additionalProperties: false },
);
export type AlertAck = Static<typeof AlertAckSchema>;

export const DELIVERY_STATES = ['pending', 'delivered', 'displayed', 'unreachable'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export const DELIVERY_STATE_LABELS: Record<DeliveryState, { zh: string; en: string }> = {
  pending: { zh: '发送中', en: 'Sending' },
  delivered: { zh: '已送达', en: 'Delivered' },
  displayed: { zh: '已上屏', en: 'Displayed' },
  unreachable: { zh: '无法送达', en: 'Unreachable' },
};

/** One target screen on an alert's delivery board. */
export const DeliverySchema = Type.Object(
  {
    alertId: IdSchema,
    screenId: IdSchema,
    zoneId: IdSchema,
    state: Type.Enum(DELIVERY_STATES),
    attempts: Type.Integer(),
    lastAttemptAt: Type.Union([Type.String(), Type.Null()]),
    deliveredAt: Type.Union([Type.String(), Type.Null()]),
    displayedAt: Type.Union([Type.String(), Type.Null()], { description: 'When the acknowledgement arrived' }),
    /** The player's own timestamp of the first frame with the alert. */
    frameAt: Type.Union([Type.String(), Type.Null()]),
    nextRetryAt: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type Delivery = Static<typeof DeliverySchema>;
