import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

/** Why a value does not fit its schema, in terms a form message can be built from. */
export type Problem =
  | { readonly key: 'required' | 'pattern' | 'type' | 'invalid' }
  | { readonly key: 'minLength' | 'maxLength' | 'minimum' | 'maximum' | 'exclusiveMinimum' | 'exclusiveMaximum' | 'minItems' | 'maxItems'; readonly limit: number };

/** A numeric keyword of a schema (`maxLength`, `maximum`…), for input limits that follow the contract. */
export function limitOf(schema: TSchema, key: 'minLength' | 'maxLength' | 'minimum' | 'maximum' | 'exclusiveMinimum' | 'exclusiveMaximum'): number | undefined {
  const value: unknown = Reflect.get(schema, key);
  return typeof value === 'number' ? value : undefined;
}

/** True for what a cleared input leaves behind. */
export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/**
 * Checks one form value against the TypeBox schema of its field in content/, so the rule the
 * server enforces is the rule the form shows as the user types. Blank values are `required`
 * unless `optional`.
 */
export function checkValue(schema: TSchema, value: unknown, optional = false): Problem | null {
  if (isBlank(value)) return optional ? null : { key: 'required' };
  const error = Value.Errors(schema, value)[0];
  if (!error) return null;
  switch (error.keyword) {
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems':
      return { key: error.keyword, limit: error.params.limit };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { key: error.keyword, limit: Number(error.params.limit) };
    case 'pattern':
      return { key: 'pattern' };
    case 'type':
      return { key: 'type' };
    default:
      return { key: 'invalid' };
  }
}
