// Parsing Kubernetes objects with their zod schema into either the typed
// object (defaults applied) or one readable line per problem, each starting
// with the path of the field to fix, as kubectl prints admission errors.
import type { z } from 'zod';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** `spec.probes[1].name`, the way kubectl names fields. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text === '' ? '(root)' : text;
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${fieldPath(issue.path)}: ${issue.message}`).join('\n');
}

export function parseWith<S extends z.ZodType>(schema: S, obj: unknown, kind: string): ParseResult<z.output<S>> {
  const result = schema.safeParse(obj);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: `invalid ${kind}:\n${formatIssues(result.error.issues)}` };
}
