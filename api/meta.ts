// The metav1 shapes Loupe's resources embed (ObjectMeta, LabelSelector,
// Condition), bounded for our status budget and checked the way the
// apiserver checks them.
import { z } from 'zod';
import { withCelRules } from './cel.js';

/** RFC 3339 timestamps as the apiserver writes them (metav1.Time). */
export const TimestampSchema = z.iso.datetime({ offset: true });

/** A DNS-1123 label: container names, port names. */
export const DnsLabelSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'must be a DNS-1123 label: lowercase letters, digits and "-"' });

/** A DNS-1123 subdomain: object names (Secrets, Nodes). */
export const DnsSubdomainSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    error: 'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and "."',
  });

/**
 * A string map with at most maxProperties entries and keys of 1..maxKeyLength
 * characters. CEL checks the keys: a structural schema cannot constrain them.
 */
export function boundedMap<V extends z.ZodType>(values: V, limits: { field: string; maxProperties: number; maxKeyLength: number }) {
  const { field, maxProperties, maxKeyLength } = limits;
  return withCelRules(
    z
      .record(z.string(), values)
      .refine((map) => Object.keys(map).length <= maxProperties, {
        message: `${field} can hold at most ${maxProperties} entries; remove some`,
      })
      .meta({ maxProperties }),
    {
      rule: `self.all(k, size(k) >= 1 && size(k) <= ${maxKeyLength})`,
      message: `${field} keys must be 1 to ${maxKeyLength} characters long`,
      holds: (map) => Object.keys(map).every((k) => k.length >= 1 && k.length <= maxKeyLength),
    },
  );
}

/**
 * The metadata fields Loupe reads; others pass through untouched. Not part
 * of the CRD schema (the apiserver owns metadata).
 */
export const ObjectMetaSchema = z.looseObject({
  name: z.string().max(253).optional(),
  namespace: z.string().max(63).optional(),
  uid: z.string().max(64).optional(),
  generation: z.number().int().min(0).optional(),
  resourceVersion: z.string().optional(),
  creationTimestamp: TimestampSchema.optional(),
  deletionTimestamp: TimestampSchema.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  finalizers: z.array(z.string()).optional(),
});
export type ObjectMeta = z.infer<typeof ObjectMetaSchema>;

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

const needsValues = (operator: string) => operator === 'In' || operator === 'NotIn';

const LabelSelectorRequirementSchema = withCelRules(
  z.object({
    key: z.string().min(1).max(317).describe('Label key, e.g. app or app.kubernetes.io/name.'),
    operator: z.enum(SELECTOR_OPERATORS, { error: 'operator must be one of In, NotIn, Exists, DoesNotExist' }),
    values: z.array(z.string().max(63)).max(64).optional().describe('Label values; only for In and NotIn.'),
  }),
  {
    rule: "!(self.operator in ['In', 'NotIn']) || (has(self.values) && size(self.values) > 0)",
    message: 'values must list at least one label value when operator is In or NotIn',
    fieldPath: '.values',
    reason: 'FieldValueRequired',
    holds: (r) => !needsValues(r.operator) || (r.values?.length ?? 0) > 0,
  },
  {
    rule: "self.operator in ['In', 'NotIn'] || !has(self.values) || size(self.values) == 0",
    message: 'values must be omitted when operator is Exists or DoesNotExist',
    fieldPath: '.values',
    reason: 'FieldValueForbidden',
    holds: (r) => needsValues(r.operator) || (r.values?.length ?? 0) === 0,
  },
);

export const LabelSelectorSchema = z
  .object({
    matchLabels: boundedMap(z.string().max(63), { field: 'matchLabels', maxProperties: 32, maxKeyLength: 317 }).optional(),
    matchExpressions: z.array(LabelSelectorRequirementSchema).max(16).optional(),
  })
  .describe('metav1.LabelSelector; an empty selector selects every pod of the namespace.');
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;

export const CONDITION_TYPES = ['Ready', 'Progressing', 'Degraded'] as const;
export const ConditionTypeSchema = z.enum(CONDITION_TYPES);
export type ConditionType = z.infer<typeof ConditionTypeSchema>;

/** metav1.Condition, with a shorter message bound to keep status small. */
export const ConditionSchema = z.object({
  type: ConditionTypeSchema,
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/, { error: 'reason must be CamelCase, e.g. ProbesLoaded' }),
  message: z.string().max(1024),
  lastTransitionTime: TimestampSchema,
  observedGeneration: z.number().int().min(0).optional(),
});
export type Condition = z.infer<typeof ConditionSchema>;

/** Conditions keyed by type, as kubectl and Argo CD expect. */
export const ConditionListSchema = z
  .array(ConditionSchema)
  .max(8)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
