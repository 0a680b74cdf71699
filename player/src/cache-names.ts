/** The Cache API cache holding verified media, shared by the page (which fills it) and the service worker. */
export const MEDIA_CACHE = 'zonecast-media-v1';
