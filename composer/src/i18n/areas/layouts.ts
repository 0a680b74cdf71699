/**
 * Messages of the Layouts pages, Simplified Chinese first. `en` must have the same keys
 * (test/composer/i18n.test.ts checks the merged tables).
 */
export const zh = {
  title: '版式设计',
};

export const en: typeof zh = {
  title: 'Layouts',
};
