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
