import { describe, expect, it } from 'vitest';
import en from '../../composer/src/i18n/en.js';
import zhCN from '../../composer/src/i18n/zh-CN.js';

/** Every leaf of a message table as `dotted.key → text`. */
function leaves(table: object, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [key, value] of Object.entries(table)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object') leaves(value, path, out);
    else out.set(path, value);
  }
  return out;
}

const zh = leaves(zhCN);
const english = leaves(en);

describe('composer message tables', () => {
  it('have the same keys in Chinese and English', () => {
    expect([...english.keys()].sort()).toEqual([...zh.keys()].sort());
  });

  it('have no empty or non-text values', () => {
    for (const [table, messages] of [['zh-CN', zh], ['en', english]] as const) {
      for (const [key, text] of messages) {
        expect(typeof text, `${table} ${key}`).toBe('string');
        expect(String(text).trim(), `${table} ${key}`).not.toBe('');
      }
    }
  });

  it('use the same placeholders in both languages', () => {
    const names = (text: unknown) => [...String(text).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, text] of zh) expect(names(english.get(key)), key).toEqual(names(text));
  });

  it('avoid the characters vue-i18n reads as syntax (linked messages, plural forms)', () => {
    for (const [key, text] of [...zh, ...english]) expect(String(text), key).not.toMatch(/[@|$]/);
  });
});
