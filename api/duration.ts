// Durations as Kubernetes users write them (Go syntax: 30s, 10m, 1h30m, 1.5h),
// stored as strings so the CRD can check them with CEL's duration().
import { z } from 'zod';
import { withCelRules } from './cel.js';

const MS_PER_UNIT: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

// The subset of Go's syntax that CEL's duration() also accepts: no sign, no bare "0",
// no "µs". "[.]" rather than "\\." because the pattern is pasted into a CEL string.
const DURATION_PATTERN = '^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$';
const durationRegex = new RegExp(DURATION_PATTERN);
const durationPart = /([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)/g;

/** Milliseconds in a duration string such as "1h30m", or undefined if it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!durationRegex.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(durationPart)) ms += Number(amount) * (MS_PER_UNIT[unit!] ?? NaN);
  return ms;
}

export interface DurationBounds {
  /** Field name used in messages, e.g. "duration". */
  field: string;
  /** Lower bound as a duration string; exclusive unless minInclusive. */
  min: string;
  minInclusive: boolean;
  /** Upper bound (inclusive) as a duration string. */
  max: string;
  /** Valid values to quote in the message, e.g. "10m or 1h30m". */
  example: string;
}

/** A bounded duration string, checked by CEL's duration() in the apiserver and by parseDuration here. */
export function durationSchema(b: DurationBounds): z.ZodString {
  const lowest = parseDuration(b.min);
  const highest = parseDuration(b.max);
  if (lowest === undefined || highest === undefined) throw new Error(`durationSchema(${b.field}): bounds must be durations`);
  const lower = b.minInclusive ? `at least ${b.min}` : `greater than ${b.min}`;
  return withCelRules(z.string().max(32), {
    // matches() first: && short-circuits, so duration() never sees a malformed string.
    rule: `self.matches('${DURATION_PATTERN}') && duration(self) ${b.minInclusive ? '>=' : '>'} duration('${b.min}') && duration(self) <= duration('${b.max}')`,
    message: `${b.field} must be written like ${b.example} (units h, m, s, ms), ${lower} and at most ${b.max}`,
    holds: (text) => {
      const ms = parseDuration(text);
      return ms !== undefined && (b.minInclusive ? ms >= lowest : ms > lowest) && ms <= highest;
    },
  });
}
