import type { ContentStatus } from '../../../../content/index.js';

/** The Element Plus tag type of each review status. */
export const STATUS_TAG: Record<ContentStatus, 'info' | 'warning' | 'danger' | 'success' | 'primary'> = {
  draft: 'info',
  submitted: 'warning',
  returned: 'danger',
  published: 'success',
  withdrawn: 'info',
};
