/** The family the bundled Noto Sans SC is registered under, so that no system font can stand in. */
export const FONT_FAMILY = 'ZoneCast Sans';
