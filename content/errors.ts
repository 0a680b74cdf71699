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
  REGION_LOCKED: {
    status: 403,
    zh: '只有市级用户可以锁定区域,或修改、删除已锁定的区域(含更换底版布局)',
    en: 'Only city-level users may lock a region, or change or remove a locked one (including by changing the base layout)',
  },
  REGION_OVERLAPS_LOCKED: { status: 422, zh: '区域与底版布局中已锁定的区域重叠', en: 'A region overlaps a locked region of the base layout' },
  LAYOUT_BASE_INVALID: {
    status: 422,
    zh: '底版布局须属于本专区或上级专区,且本身不能再有底版',
    en: 'The base layout must belong to this zone or one above it, and must not have a base of its own',
  },
  LAYOUT_BASE_MISMATCH: { status: 422, zh: '布局尺寸须与底版布局一致', en: 'The layout must have the same size as its base layout' },
  DAYPART_INVALID: { status: 422, zh: '时段格式应为 HH:MM', en: 'Daypart times must be HH:MM' },
  WINDOW_INVALID: { status: 422, zh: '结束时间必须晚于开始时间', en: 'The end must be after the start' },
  MEDIA_MISSING_FILE: { status: 400, zh: '请上传一个文件', en: 'Upload one file' },
  MEDIA_TOO_LARGE: { status: 413, zh: '文件过大', en: 'The file is too large' },
  MEDIA_TOO_MANY_PIXELS: { status: 413, zh: '图片像素过多(可能是解压炸弹)', en: 'The image has too many pixels (possible decompression bomb)' },
  MEDIA_UNSUPPORTED: { status: 415, zh: '不支持的文件类型,请上传 JPEG、PNG、WebP、GIF、AVIF、TIFF 图片或 WebM、MP4 视频', en: 'Unsupported file type; upload a JPEG, PNG, WebP, GIF, AVIF or TIFF image, or a WebM or MP4 video' },
  MEDIA_CORRUPT: { status: 422, zh: '图片已损坏或不完整', en: 'The image is corrupt or truncated' },
  AUTH_REQUIRED: { status: 401, zh: '请先登录', en: 'Please log in' },
  SESSION_EXPIRED: { status: 401, zh: '登录已过期,请重新登录', en: 'Your session has expired; please log in again' },
  LOGIN_FAILED: { status: 401, zh: '用户名或密码错误', en: 'Wrong username or password' },
  LOGIN_LOCKED: { status: 429, zh: '登录失败次数过多,账号已暂时锁定,请稍后再试', en: 'Too many failed logins; the account is locked for a while' },
  LOGIN_THROTTLED: { status: 429, zh: '登录尝试过于频繁,请稍后再试', en: 'Too many login attempts from this address; try again later' },
  ACCOUNT_DISABLED: { status: 403, zh: '该账号已停用,请联系管理员', en: 'This account is disabled; contact an administrator' },
  FORBIDDEN_ROLE: { status: 403, zh: '您的角色无权执行此操作', en: 'Your role does not allow this' },
  FORBIDDEN_SCOPE: { status: 403, zh: '该对象不在您负责的专区范围内', en: 'This is outside the zones you are responsible for' },
  CROSS_SITE_REQUEST: { status: 403, zh: '拒绝来自其他站点的请求', en: 'Cross-site request refused' },
  PASSWORD_WRONG: { status: 403, zh: '当前密码不正确', en: 'The current password is wrong' },
  PASSWORD_WEAK: { status: 422, zh: '密码至少10位,且不能与用户名相同', en: 'Passwords need at least 10 characters and must differ from the username' },
  USERNAME_TAKEN: { status: 409, zh: '用户名已被使用', en: 'That username is taken' },
  ROLE_ZONE_INVALID: { status: 422, zh: '市级管理员须绑定市级专区,其他角色须绑定一个专区', en: 'A city admin must be bound to a city zone; other roles to a zone' },
  LAST_ADMIN: { status: 409, zh: '不能停用或降级最后一个可用的市级管理员', en: 'Cannot disable or demote the last active city admin' },
  REVIEW_TRANSITION_INVALID: { status: 409, zh: '当前状态下不能执行该审核操作', en: 'That review action is not allowed in the current status' },
  REVIEW_OWN_CONTENT: { status: 403, zh: '不能审核自己编写或提交的内容', en: 'You cannot approve content you wrote or submitted' },
  CONTENT_UNDER_REVIEW: { status: 409, zh: '内容正在审核中,请先撤回提交再修改', en: 'The content is under review; recall it before editing' },
  CONTENT_PUBLISHED: { status: 409, zh: '内容已发布,请先下架再删除', en: 'The content is published; withdraw it before deleting' },
  PAIRING_CODE_INVALID: { status: 404, zh: '配对码无效或已过期,请核对屏幕上显示的配对码', en: 'Unknown or expired pairing code; check the code on the screen' },
  PAIRING_THROTTLED: { status: 429, zh: '等待配对的屏幕过多,请稍后再试', en: 'Too many screens are waiting to be paired; try again later' },
  PAIRING_REQUIRED: { status: 401, zh: '屏幕尚未配对', en: 'The screen is not paired' },
  AUDIT_RANGE_INVALID: { status: 422, zh: '查询时间范围无效', en: 'Invalid time range' },
  ALERT_NOT_ACTIVE: { status: 409, zh: '该紧急通知已解除或已过期,不能再修改或解除', en: 'The alert was cleared or has expired; it can no longer be amended or cleared' },
  ALERT_IMAGE_INVALID: { status: 422, zh: '紧急通知只能附带图片,不能附带视频', en: 'An alert can carry an image, not a video' },
  ALERT_DUPLICATE: { status: 409, zh: '该预警信息已发布为紧急通知', en: 'An alert from this CAP message already exists' },
  DEVICE_TOKEN_INVALID: { status: 401, zh: '设备令牌无效', en: 'Invalid device token' },
  API_TOKEN_SESSION_REQUIRED: { status: 403, zh: '请登录管理后台创建 API 令牌,不能用令牌创建令牌', en: 'Create API tokens from a logged-in session, not with another token' },
  CAP_UNSAFE_XML: { status: 400, zh: '拒绝含 DOCTYPE 或实体声明的 XML(可能是实体扩展或外部实体攻击)', en: 'XML with a DOCTYPE or entity declaration is refused (possible entity expansion or external entity attack)' },
  CAP_MALFORMED: { status: 400, zh: 'CAP 消息不是格式正确的 XML', en: 'The CAP message is not well-formed XML' },
  CAP_NAMESPACE: { status: 422, zh: '不是 CAP 1.2 消息:根元素须为命名空间 urn:oasis:names:tc:emergency:cap:1.2 中的 alert', en: 'Not a CAP 1.2 message: the root must be alert in namespace urn:oasis:names:tc:emergency:cap:1.2' },
  CAP_INVALID: { status: 422, zh: 'CAP 消息缺少必填字段或字段取值无效', en: 'The CAP message lacks a required field or has an invalid value' },
  CAP_NOT_PUBLIC: { status: 422, zh: '只有发布范围为公开(Public)的预警才能在公共屏幕上播出', en: 'Only alerts with scope Public may be shown on public screens' },
  CAP_NO_ZONE: { status: 422, zh: 'CAP 消息的区域(行政区划代码或区域名称)与任何专区都不匹配', en: 'No zone matches the areas (division codes or area names) of the CAP message' },
  CAP_REFERENCE_UNKNOWN: { status: 404, zh: '找不到该 CAP 更新或撤销所引用的预警', en: 'The alert this CAP Update or Cancel refers to is unknown' },
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
