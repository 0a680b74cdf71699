/**
 * Messages of the Content library pages, Simplified Chinese first. `en` must have the same keys
 * (test/composer/i18n.test.ts checks the merged tables).
 */
export const zh = {
  title: '内容库',
};

export const en: typeof zh = {
  title: 'Content library',
};
