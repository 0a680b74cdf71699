import { Type, type Static } from 'typebox';
import { IdSchema } from './common.js';
import { ContentKindSchema } from './content-item.js';

export const PlaylistEntrySchema = Type.Object(
  {
    contentId: IdSchema,
    durationS: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })),
    weight: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    scheduleId: Type.Optional(Type.Union([IdSchema, Type.Null()])),
  },
  { additionalProperties: false },
);
export type PlaylistEntry = Static<typeof PlaylistEntrySchema>;

/**
 * Where a rule playlist looks for content, relative to the zone of the screen that shows it:
 * `self` its own zone, `ancestors` its zone and every zone above, `subtree` its zone and every
 * zone below, `lineage` both.
 */
export const RULE_SCOPES = ['self', 'ancestors', 'subtree', 'lineage'] as const;
export type RuleScope = (typeof RULE_SCOPES)[number];

export const PlaylistRuleSchema = Type.Object(
  {
    kinds: Type.Array(ContentKindSchema, { minItems: 1, uniqueItems: true }),
    scope: Type.Enum(RULE_SCOPES),
    limit: Type.Integer({ minimum: 1, maximum: 200, description: 'At most this many items, newest first' }),
  },
  { additionalProperties: false },
);
export type PlaylistRule = Static<typeof PlaylistRuleSchema>;

const playlistFields = {
  name: Type.String({ minLength: 1, maxLength: 60 }),
  zoneId: IdSchema,
  mode: Type.Union([Type.Literal('fixed'), Type.Literal('rule')]),
  entries: Type.Array(PlaylistEntrySchema, { maxItems: 500, description: 'Items of a fixed playlist, in order' }),
  rule: Type.Union([PlaylistRuleSchema, Type.Null()]),
  defaultDurationS: Type.Number({ minimum: 1, maximum: 3600 }),
  scheduleId: Type.Union([IdSchema, Type.Null()]),
};

export const PlaylistInputSchema = Type.Object({ id: Type.Optional(IdSchema), ...playlistFields }, { additionalProperties: false });
export const PlaylistSchema = Type.Object(
  { id: IdSchema, ...playlistFields, createdAt: Type.String(), updatedAt: Type.String() },
  { additionalProperties: false },
);
export type PlaylistInput = Static<typeof PlaylistInputSchema>;
export type Playlist = Static<typeof PlaylistSchema>;
