import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';
import type { Permission } from '../../content/index.js';

declare module 'vue-router' {
  interface RouteMeta {
    /** What the user needs to see the page; its menu item is hidden without it. */
    permission: Permission;
    /** i18n key of the menu label and page title. */
    title: string;
  }
}

/** The pages, in menu order. */
export const pages = [
  { path: '/zones', name: 'zones', component: () => import('./pages/ZonesPage.vue'), meta: { permission: 'read', title: 'nav.zones' } },
  { path: '/library', name: 'library', component: () => import('./pages/LibraryPage.vue'), meta: { permission: 'read', title: 'nav.library' } },
  { path: '/layouts', name: 'layouts', component: () => import('./pages/LayoutsPage.vue'), meta: { permission: 'read', title: 'nav.layouts' } },
  { path: '/playlists', name: 'playlists', component: () => import('./pages/PlaylistsPage.vue'), meta: { permission: 'read', title: 'nav.playlists' } },
  { path: '/screens', name: 'screens', component: () => import('./pages/ScreensPage.vue'), meta: { permission: 'read', title: 'nav.screens' } },
  { path: '/alerts', name: 'alerts', component: () => import('./pages/AlertsPage.vue'), meta: { permission: 'alert:send', title: 'nav.alerts' } },
  { path: '/review', name: 'review', component: () => import('./pages/ReviewPage.vue'), meta: { permission: 'content:review', title: 'nav.review' } },
  { path: '/pairing', name: 'pairing', component: () => import('./pages/PairingPage.vue'), meta: { permission: 'screen:pair', title: 'nav.pairing' } },
  { path: '/users', name: 'users', component: () => import('./pages/UsersPage.vue'), meta: { permission: 'user:admin', title: 'nav.users' } },
  { path: '/audit', name: 'audit', component: () => import('./pages/AuditPage.vue'), meta: { permission: 'audit:read', title: 'nav.audit' } },
] as const satisfies readonly RouteRecordRaw[];

/**
 * Hash history (`/composer/#/review`): the server serves one index.html at /composer/ and
 * needs no fallback route for deep links.
 */
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [{ path: '/', redirect: '/zones' }, ...pages, { path: '/:rest(.*)*', redirect: '/zones' }],
});
