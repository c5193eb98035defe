// Equality as the API server would store it: JSON values, key order and
// undefined fields ignored. The reconcilers compare before every write so a
// steady state costs no API writes.
import { isDeepStrictEqual } from 'node:util';

function asJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

export function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(asJson(a), asJson(b));
}

/** sameJson on two objects with the given top-level fields left out of both. */
export function sameJsonExcept<T extends object>(a: T, b: T, fields: readonly (keyof T)[]): boolean {
  const without = (value: T): Record<string, unknown> => {
    const rest: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const field of fields) delete rest[field as string];
    return rest;
  };
  return sameJson(without(a), without(b));
}
