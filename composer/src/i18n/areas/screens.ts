/**
 * Messages of the Screens pages, Simplified Chinese first. `en` must have the same keys
 * (test/composer/i18n.test.ts checks the merged tables).
 */
export const zh = {
  title: '屏幕管理',
};

export const en: typeof zh = {
  title: 'Screens',
};
