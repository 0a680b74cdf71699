import { createI18n } from 'vue-i18n';
import en from './en.js';
import zhCN from './zh-CN.js';

export type Locale = 'zh-CN' | 'en';

const STORAGE_KEY = 'zonecast.composer.locale';

function remembered(): Locale {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
}

/** Simplified Chinese first, English as a switch; every visible string comes from these tables. */
export const i18n = createI18n({
  legacy: false,
  locale: remembered(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
});

document.documentElement.lang = i18n.global.locale.value;

/** Switches the UI language (Element Plus follows through the config provider) and remembers it. */
export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  document.documentElement.lang = locale;
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // A browser that refuses storage keeps the choice for this page only.
  }
}

/** The current UI language. */
export function currentLocale(): Locale {
  return i18n.global.locale.value === 'en' ? 'en' : 'zh-CN';
}

/** The text of a `{ zh, en }` pair from content/ (labels, error messages) in the current language. */
export function pick(pair: { readonly zh: string; readonly en: string }): string {
  return currentLocale() === 'en' ? pair.en : pair.zh;
}

/** Translates a key outside components. */
export function tr(key: string, values?: Record<string, unknown>): string {
  return values ? i18n.global.t(key, values) : i18n.global.t(key);
}
