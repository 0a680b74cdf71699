import { ref } from 'vue';
import type { ContentRecord } from '../../content/index.js';
import { api } from './http.js';
import { can } from './session.js';

/** How many items wait for review in the user's scope, for the menu badge. */
export const reviewCount = ref(0);

/** Counts the queue again (after login and after each review action elsewhere). */
export async function refreshReviewCount(): Promise<void> {
  if (!can('content:review')) return;
  try {
    reviewCount.value = (await api.get<ContentRecord[]>('/api/content?status=submitted')).length;
  } catch {
    // The badge is a hint; the queue page shows the error itself.
  }
}
