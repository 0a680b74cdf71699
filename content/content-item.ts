import { Type, type Static, type TProperties, type TSchema } from 'typebox';
import { DateSchema, IdSchema, InstantSchema, Sha256Schema } from './common.js';
import { ContentStatusSchema, ReviewStateSchema } from './review.js';

/** Every kind of content a screen can show. */
export const CONTENT_KINDS = [
  'policy',
  'notice',
  'service-map',
  'service-guide',
  'three-affairs',
  'text',
  'image',
  'video',
] as const;
export type ContentKind = (typeof CONTENT_KINDS)[number];
export const ContentKindSchema = Type.Enum(CONTENT_KINDS);

/** Chinese and English labels of each kind, for the composer and the explain API. */
export const CONTENT_KIND_LABELS: Record<ContentKind, { zh: string; en: string }> = {
  policy: { zh: '政策文件', en: 'Policy' },
  notice: { zh: '公示公告', en: 'Notice' },
  'service-map': { zh: '便民服务地图', en: 'Service map' },
  'service-guide': { zh: '办事指南', en: 'Service guide' },
  'three-affairs': { zh: '三务公开', en: 'Three-affairs disclosure' },
  text: { zh: '文字', en: 'Text' },
  image: { zh: '图片', en: 'Image' },
  video: { zh: '视频', en: 'Video' },
};


const Body = Type.String({ maxLength: 20000 });
const Short = (max: number) => Type.String({ minLength: 1, maxLength: max });

/** Fields each kind adds to the common ones. */
const KIND_FIELDS = {
  policy: {
    docNumber: Short(60), // 文号, e.g. 彬政办发〔2022〕35号
    issuer: Short(60),
    issuedDate: DateSchema,
    sourceUrl: Type.String({ format: 'uri', maxLength: 500 }),
    body: Body,
    interpretation: Type.Object(
      { title: Short(120), body: Body, sourceUrl: Type.Union([Type.String({ format: 'uri', maxLength: 500 }), Type.Null()]) },
      { additionalProperties: false },
    ),
  },
  notice: {
    body: Body,
    publicityStart: InstantSchema,
    publicityEnd: InstantSchema,
    contact: Type.String({ maxLength: 120 }),
    // An optional picture shown with the notice (a site plan, a scanned list); absent means none.
    mediaHash: Type.Optional(Type.Union([Sha256Schema, Type.Null()])),
  },
  'service-map': {
    mediaHash: Type.Union([Sha256Schema, Type.Null()]),
    caption: Type.String({ maxLength: 200 }),
    markers: Type.Array(
      Type.Object(
        {
          name: Short(60),
          x: Type.Number({ minimum: 0, maximum: 1, description: 'Fraction of the map width' }),
          y: Type.Number({ minimum: 0, maximum: 1, description: 'Fraction of the map height' }),
          address: Type.String({ maxLength: 120 }),
          phone: Type.String({ maxLength: 40 }),
          hours: Type.String({ maxLength: 60 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 100 },
    ),
  },
  'service-guide': {
    matter: Short(120),
    department: Short(60),
    steps: Type.Array(Short(200), { maxItems: 30 }),
    materials: Type.Array(Short(200), { maxItems: 50 }),
    timeLimit: Type.String({ maxLength: 60 }),
    fee: Type.String({ maxLength: 60 }),
    location: Type.String({ maxLength: 120 }),
    phone: Type.String({ maxLength: 40 }),
  },
  'three-affairs': {
    category: Type.Union([Type.Literal('party'), Type.Literal('village'), Type.Literal('finance')], {
      description: '党务 / 村务 / 财务',
    }),
    period: Short(40),
    body: Body,
    rows: Type.Array(
      Type.Object({ item: Short(120), amount: Type.String({ maxLength: 40 }), note: Type.String({ maxLength: 120 }) }, { additionalProperties: false }),
      { maxItems: 200 },
    ),
  },
  text: {
    body: Body,
    align: Type.Union([Type.Literal('left'), Type.Literal('center')]),
  },
  image: {
    mediaHash: Sha256Schema,
    fit: Type.Union([Type.Literal('contain'), Type.Literal('cover')]),
    caption: Type.String({ maxLength: 200 }),
  },
  video: {
    mediaHash: Sha256Schema,
    muted: Type.Boolean(),
  },
} as const satisfies Record<ContentKind, Record<string, TSchema>>;

const commonInput = {
  zoneId: IdSchema,
  title: Short(120),
  validFrom: Type.Union([InstantSchema, Type.Null()]),
  validTo: Type.Union([InstantSchema, Type.Null()]),
  durationS: Type.Union([Type.Number({ minimum: 1, maximum: 3600 }), Type.Null()]),
};

/** One object schema per kind, each with the common fields and `extra`. */
function variants<E extends TProperties>(extra: E) {
  const v = <K extends ContentKind>(kind: K) =>
    Type.Object({ kind: Type.Literal(kind), ...commonInput, ...KIND_FIELDS[kind], ...extra }, { additionalProperties: false });
  return Type.Union([v('policy'), v('notice'), v('service-map'), v('service-guide'), v('three-affairs'), v('text'), v('image'), v('video')]);
}

const version = { id: IdSchema, createdAt: Type.String(), updatedAt: Type.String() };

/** What an editor sends: the item's fields; its status moves only through review actions. */
export const ContentInputSchema = variants({ id: Type.Optional(IdSchema) });
/** One version of an item as screens show it: the published version travels in manifests. */
export const ContentItemSchema = variants(version);
/** An item as stored and listed: the working copy, its review status and the published version. */
export const ContentRecordSchema = variants({
  ...version,
  status: ContentStatusSchema,
  published: Type.Union([ContentItemSchema, Type.Null()], { description: 'The approved version screens show; null until approved or after withdrawal' }),
  review: ReviewStateSchema,
});
export type ContentInput = Static<typeof ContentInputSchema>;
export type ContentItem = Static<typeof ContentItemSchema>;
export type ContentRecord = Static<typeof ContentRecordSchema>;
export type ContentOf<K extends ContentKind> = Extract<ContentItem, { kind: K }>;

/** The media hashes an item needs on screen. */
export function mediaHashesOf(item: ContentItem | ContentInput): string[] {
  switch (item.kind) {
    case 'image':
    case 'video':
      return [item.mediaHash];
    case 'service-map':
    case 'notice':
      return item.mediaHash ? [item.mediaHash] : [];
    default:
      return [];
  }
}
