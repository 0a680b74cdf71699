/**
 * Messages of the Playlists and schedules pages, Simplified Chinese first. `en` must have the same keys
 * (test/composer/i18n.test.ts checks the merged tables).
 */
export const zh = {
  title: '播放列表与排期',
};

export const en: typeof zh = {
  title: 'Playlists and schedules',
};
