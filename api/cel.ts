// CEL validation rules declared once, enforced twice: the kube-apiserver
// evaluates the rule (carried into the CRD as x-kubernetes-validations), and
// zod evaluates `holds`, the same rule in TypeScript, with the same message,
// so `loupe` and the operator reject what admission rejects, worded the same way.
import type { z } from 'zod';

/** One entry of x-kubernetes-validations, as apiextensions.k8s.io/v1 ValidationRule. */
export interface CelRule {
  rule: string;
  /** Names the field and says what to fix; the apiserver prefixes it with the path. */
  message: string;
  /** Where the error points, relative to the node carrying the rule (e.g. `.endpoint`). */
  fieldPath?: string;
  // Not FieldValueDuplicate: the apiserver prints the value instead of the message for it.
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired';
}

export interface CheckedCelRule<T> extends CelRule {
  holds: (value: T) => boolean;
}

export const CEL_RULES_KEY = 'x-kubernetes-validations';

export function celRulesOf(schema: z.ZodType): CelRule[] {
  return (schema.meta()?.[CEL_RULES_KEY] as CelRule[] | undefined) ?? [];
}

/** zod path segments of a CEL fieldPath such as `.tls.caSecretRef`. */
function pathOf(fieldPath: string | undefined): string[] {
  return fieldPath === undefined ? [] : fieldPath.split('.').filter((s) => s !== '');
}

/** `schema` checked by each rule: by the apiserver through the CRD, by zod through `holds`. */
export function withCelRules<T extends z.ZodType>(schema: T, ...rules: CheckedCelRule<z.output<T>>[]): T {
  let checked = schema;
  for (const { holds, ...rule } of rules) {
    checked = checked.refine(holds, { message: rule.message, path: pathOf(rule.fieldPath) });
  }
  return checked.meta({ ...checked.meta(), [CEL_RULES_KEY]: [...celRulesOf(checked), ...rules.map(({ holds: _, ...rule }) => rule)] });
}
