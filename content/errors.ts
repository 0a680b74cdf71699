import { Type } from 'typebox';

/**
 * Machine-readable error codes with their Chinese and English messages. The server answers
 * with these; the player and the composer show `zh` first.
 */
export const ERRORS = {
  VALIDATION_FAILED: { status: 400, zh: '请求内容不符合要求', en: 'The request is not valid' },
  BAD_JSON: { status: 400, zh: '请求体不是有效的 JSON', en: 'The request body is not valid JSON' },
  PAYLOAD_TOO_LARGE: { status: 413, zh: '请求体过大', en: 'The request body is too large' },
  UNSUPPORTED_CONTENT_TYPE: { status: 415, zh: '不支持的请求内容类型', en: 'Unsupported Content-Type' },
  NOT_FOUND: { status: 404, zh: '找不到该对象', en: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, zh: '接口不存在', en: 'No such API route' },
  CONFLICT: { status: 409, zh: '与现有数据冲突', en: 'Conflicts with existing data' },
  ID_TAKEN: { status: 409, zh: '编号已被占用', en: 'That id is already taken' },
  IN_USE: { status: 409, zh: '该对象仍被引用,不能删除', en: 'Still referenced; cannot delete' },
  ZONE_PARENT_INVALID: {
    status: 422,
    zh: '上级专区不符合层级要求(市级无上级,镇/街道上级为市级,村/社区上级为镇/街道)',
    en: 'Parent zone breaks the tier rule (city has none, town under city, village under town)',
  },
  ZONE_CODE_INVALID: {
    status: 422,
    zh: '行政区划代码须为12位数字,且与上级专区的代码前缀一致',
    en: 'Division code must be 12 digits and share its parent’s prefix',
  },
  ZONE_CODE_TAKEN: { status: 409, zh: '该行政区划代码已被其他专区使用', en: 'Division code already used by another zone' },
  ZONE_HAS_CHILDREN: { status: 409, zh: '该专区下仍有下级专区或屏幕', en: 'The zone still has child zones or screens' },
  REFERENCE_MISSING: { status: 422, zh: '引用的对象不存在', en: 'A referenced object does not exist' },
  REGION_OUT_OF_CANVAS: { status: 422, zh: '区域超出画布范围', en: 'A region lies outside the canvas' },
  REGION_ID_DUPLICATE: { status: 422, zh: '区域编号重复', en: 'Duplicate region id' },
  DAYPART_INVALID: { status: 422, zh: '时段格式应为 HH:MM', en: 'Daypart times must be HH:MM' },
  WINDOW_INVALID: { status: 422, zh: '结束时间必须晚于开始时间', en: 'The end must be after the start' },
  MEDIA_MISSING_FILE: { status: 400, zh: '请上传一个文件', en: 'Upload one file' },
  MEDIA_TOO_LARGE: { status: 413, zh: '文件过大', en: 'The file is too large' },
  MEDIA_TOO_MANY_PIXELS: { status: 413, zh: '图片像素过多(可能是解压炸弹)', en: 'The image has too many pixels (possible decompression bomb)' },
  MEDIA_UNSUPPORTED: { status: 415, zh: '不支持的文件类型,请上传 JPEG、PNG、WebP、GIF、AVIF、TIFF 图片或 WebM、MP4 视频', en: 'Unsupported file type; upload a JPEG, PNG, WebP, GIF, AVIF or TIFF image, or a WebM or MP4 video' },
  MEDIA_CORRUPT: { status: 422, zh: '图片已损坏或不完整', en: 'The image is corrupt or truncated' },
  DEVICE_TOKEN_INVALID: { status: 401, zh: '设备令牌无效', en: 'Invalid device token' },
  STORE_WRITE_FAILED: { status: 503, zh: '数据保存失败,请稍后重试', en: 'Could not save; try again shortly' },
  INTERNAL: { status: 500, zh: '服务器内部错误', en: 'Internal server error' },
} as const satisfies Record<string, { status: number; zh: string; en: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** The JSON body of every error response and failed socket acknowledgement. */
export interface ErrorBody {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly message: { readonly zh: string; readonly en: string };
  readonly detail?: string;
}

/** Builds the error body for `code`, with an optional detail for developers. */
export function errorBody(code: ErrorCode, detail?: string): ErrorBody {
  const e = ERRORS[code];
  return detail === undefined
    ? { ok: false, code, message: { zh: e.zh, en: e.en } }
    : { ok: false, code, message: { zh: e.zh, en: e.en }, detail };
}

/** The TypeBox schema of ErrorBody, for every route's error responses. */
export const ErrorBodySchema = Type.Object(
  {
    ok: Type.Literal(false),
    code: Type.String(),
    message: Type.Object({ zh: Type.String(), en: Type.String() }),
    detail: Type.Optional(Type.String()),
  },
  { $id: 'ErrorBody', description: 'Error with a machine-readable code and a Chinese and English message' },
);
