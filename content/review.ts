import { Type, type Static } from 'typebox';

/**
 * The review workflow (发布审核). Content moves draft → submitted → published, or is returned
 * with a reason; published content can be withdrawn. An edit to published content starts a
 * new draft while the published version keeps showing, until the edit is approved.
 */
export const CONTENT_STATUSES = ['draft', 'submitted', 'returned', 'published', 'withdrawn'] as const;
export type ContentStatus = (typeof CONTENT_STATUSES)[number];
export const ContentStatusSchema = Type.Enum(CONTENT_STATUSES);

export const CONTENT_STATUS_LABELS: Record<ContentStatus, { zh: string; en: string }> = {
  draft: { zh: '草稿', en: 'Draft' },
  submitted: { zh: '待审核', en: 'Submitted' },
  returned: { zh: '已退回', en: 'Returned' },
  published: { zh: '已发布', en: 'Published' },
  withdrawn: { zh: '已撤回', en: 'Withdrawn' },
};

export const REVIEW_ACTIONS = ['submit', 'recall', 'approve', 'return', 'withdraw'] as const;
export type ReviewAction = (typeof REVIEW_ACTIONS)[number];

export const REVIEW_ACTION_LABELS: Record<ReviewAction, { zh: string; en: string }> = {
  submit: { zh: '提交审核', en: 'Submit for review' },
  recall: { zh: '撤回提交', en: 'Recall submission' },
  approve: { zh: '审核通过并发布', en: 'Approve and publish' },
  return: { zh: '退回修改', en: 'Return with a reason' },
  withdraw: { zh: '下架', en: 'Withdraw from screens' },
};

/** Who may take each action: authors (content:write) or reviewers (content:review). */
export const REVIEW_ACTION_PERMISSION: Record<ReviewAction, 'content:write' | 'content:review'> = {
  submit: 'content:write',
  recall: 'content:write',
  approve: 'content:review',
  return: 'content:review',
  withdraw: 'content:review',
};

/** The status an action leads to from `status`, or null when the transition is not allowed. */
export function nextStatus(status: ContentStatus, hasPublished: boolean, action: ReviewAction): ContentStatus | null {
  switch (action) {
    case 'submit':
      return status === 'draft' || status === 'returned' || status === 'withdrawn' ? 'submitted' : null;
    case 'recall':
      return status === 'submitted' ? 'draft' : null;
    case 'approve':
      return status === 'submitted' ? 'published' : null;
    case 'return':
      return status === 'submitted' ? 'returned' : null;
    case 'withdraw':
      return hasPublished ? 'withdrawn' : null;
  }
}

/** An item under review cannot be edited until it is recalled, approved or returned. */
export function canEdit(status: ContentStatus): boolean {
  return status !== 'submitted';
}

/** The body of the return action: the reason is required. */
export const ReturnSchema = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false });
export type ReturnBody = Static<typeof ReturnSchema>;

/** Who did what in review, kept on the item for the composer's queue and history. */
export const ReviewStateSchema = Type.Object(
  {
    createdBy: Type.Union([Type.String(), Type.Null()]),
    updatedBy: Type.Union([Type.String(), Type.Null()]),
    submittedBy: Type.Union([Type.String(), Type.Null()]),
    submittedAt: Type.Union([Type.String(), Type.Null()]),
    reviewedBy: Type.Union([Type.String(), Type.Null()]),
    reviewedAt: Type.Union([Type.String(), Type.Null()]),
    returnReason: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ReviewState = Static<typeof ReviewStateSchema>;

/** A reviewer may not approve what they wrote, edited or submitted. */
export function isOwnWork(review: ReviewState, userId: string): boolean {
  return review.createdBy === userId || review.updatedBy === userId || review.submittedBy === userId;
}
