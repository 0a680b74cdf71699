import type { FormItemRule } from 'element-plus';
import type { TSchema } from 'typebox';
import { reactive, ref, watch, type WatchSource } from 'vue';
import { ERRORS, type ErrorCode } from '../../content/index.js';
import { pick, tr } from './i18n/index.js';
import { ApiError, errorField } from './lib/api-error.js';
import { checkValue, type Problem } from './lib/validate.js';

/** Plain-language text of any failure: the server's message in the UI language, else the code table. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.text) return pick(e.text);
    if (e.code === 'NETWORK') return tr('error.network');
    if (e.code in ERRORS) return pick(ERRORS[e.code as ErrorCode]);
    return tr('error.unknown', { code: e.code });
  }
  return tr('error.unknown', { code: e instanceof Error ? e.message : String(e) });
}

/** The message for a schema problem; `patternKey` explains what a pattern wants in words. */
export function problemText(p: Problem, patternKey?: string): string {
  if (p.key === 'pattern' && patternKey) return tr(patternKey);
  return 'limit' in p ? tr(`validation.${p.key}`, { limit: p.limit }) : tr(`validation.${p.key}`);
}

export interface SchemaRuleOptions {
  /** A blank value is fine (the field is nullable or has a default). */
  readonly optional?: boolean;
  /** i18n key of the message for a pattern mismatch. */
  readonly pattern?: string;
  /** Turns the form value into what the schema checks (e.g. trims). */
  readonly map?: (value: unknown) => unknown;
}

/**
 * An Element Plus rule that checks the field against its TypeBox schema from content/ on every
 * change, i.e. as the user types, with the message in the UI language.
 */
export function schemaRule(schema: TSchema, options: SchemaRuleOptions = {}): FormItemRule {
  return {
    trigger: ['change', 'blur'],
    validator: (_rule, value: unknown, callback: (error?: Error) => void) => {
      const problem = checkValue(schema, options.map ? options.map(value) : value, options.optional);
      callback(problem ? new Error(problemText(problem, options.pattern)) : undefined);
    },
  };
}

/** A rule from a plain check that returns the message, or null when the value is fine. */
export function checkRule(check: (value: unknown) => string | null): FormItemRule {
  return {
    trigger: ['change', 'blur'],
    validator: (_rule, value: unknown, callback: (error?: Error) => void) => {
      const message = check(value);
      callback(message ? new Error(message) : undefined);
    },
  };
}

/**
 * The server's answer to a failed save, kept beside the form: the whole message for the alert,
 * and per field where the error names one. A field's error clears as soon as it is edited.
 */
export function useServerError<F extends string>(fields: readonly F[], model?: WatchSource<Record<F, unknown>>) {
  const error = ref<string | null>(null);
  const fieldErrors = reactive({} as Record<string, string>);
  const clear = () => {
    error.value = null;
    for (const f of Object.keys(fieldErrors)) delete fieldErrors[f];
  };
  const capture = (e: unknown) => {
    clear();
    error.value = errorText(e);
    const field = e instanceof ApiError ? errorField(e, fields) : null;
    if (field) fieldErrors[field] = error.value;
  };
  if (model) {
    const last = new Map<string, unknown>();
    watch(
      model,
      (value) => {
        for (const f of fields) {
          const now = JSON.stringify(value[f]);
          if (last.has(f) && last.get(f) !== now) delete fieldErrors[f];
          last.set(f, now);
        }
      },
      { deep: true, immediate: true },
    );
  }
  return { error, fieldErrors, capture, clear };
}

/** Formats an instant (epoch ms or ISO string) in the UI language. */
export function formatTime(at: number | string | null | undefined): string {
  if (at === null || at === undefined || at === '') return '';
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return String(at);
  return new Intl.DateTimeFormat(pick({ zh: 'zh-CN', en: 'en-GB' }), { dateStyle: 'short', timeStyle: 'medium' }).format(d);
}
