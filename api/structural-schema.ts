// Turns zod's OpenAPI 3.0 JSON Schema into a Kubernetes structural schema
// (apiextensions.k8s.io/v1 JSONSchemaProps that the apiserver accepts and can
// prune and default with): every $ref inlined, every node typed, unions
// rewritten into the few shapes Kubernetes understands, and keywords that
// apiextensions rejects dropped. Anything it cannot express is an error that
// names the schema path, never a silently looser schema.
import { CEL_RULES_KEY, type CelRule } from './cel.js';

export type JsonSchema = { [keyword: string]: unknown };

const isSchema = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

// Keywords with no place in JSONSchemaProps, or that only carry zod's bookkeeping.
const DROPPED_KEYWORDS = [
  ...['$schema', '$id', 'id', '$defs', 'definitions', 'components', '$comment'],
  ...['examples', 'readOnly', 'writeOnly', 'deprecated'],
];
// Structural schemas forbid these: properties, items and additionalProperties are the whole vocabulary of shape.
const UNSUPPORTED_KEYWORDS = ['allOf', 'not', 'patternProperties', 'propertyNames', 'if', 'then', 'else', 'dependentSchemas', 'prefixItems'];

class StructuralSchemaError extends Error {
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'StructuralSchemaError';
  }
}

/**
 * The structural schema for `schema`; throws naming the path (from `name`) of
 * whatever Kubernetes cannot express.
 */
export function toStructuralSchema(schema: JsonSchema, name = '#'): JsonSchema {
  return convert(schema, schema, name, []);
}

/** Keywords in alphabetical order (as controller-gen writes them), so generated YAML diffs stay small. */
function sortKeywords(node: JsonSchema): JsonSchema {
  return Object.fromEntries(Object.entries(node).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function resolveRef(root: JsonSchema, ref: string, path: string): JsonSchema {
  if (!ref.startsWith('#/')) throw new StructuralSchemaError(path, `cannot inline external $ref ${ref}`);
  let node: unknown = root;
  for (const token of ref.slice(2).split('/')) {
    const key = token.replaceAll('~1', '/').replaceAll('~0', '~');
    node = isSchema(node) ? node[key] : undefined;
  }
  if (!isSchema(node)) throw new StructuralSchemaError(path, `$ref ${ref} points nowhere`);
  return node;
}

function convert(node: JsonSchema, root: JsonSchema, path: string, refsInProgress: string[]): JsonSchema {
  if (typeof node.$ref === 'string') {
    const ref = node.$ref;
    if (refsInProgress.includes(ref)) {
      throw new StructuralSchemaError(path, `recursive schema through ${ref}: structural schemas cannot recurse`);
    }
    const { $ref: _, ...siblings } = node;
    return convert({ ...resolveRef(root, ref, path), ...siblings }, root, path, [...refsInProgress, ref]);
  }
  const out: JsonSchema = { ...node };
  for (const keyword of DROPPED_KEYWORDS) delete out[keyword];
  for (const keyword of UNSUPPORTED_KEYWORDS) {
    if (keyword in out) throw new StructuralSchemaError(path, `${keyword} has no structural equivalent; express it with a CEL rule`);
  }
  if ('const' in out) {
    out.enum = [out.const];
    delete out.const;
  }
  if (Array.isArray(out.type)) throw new StructuralSchemaError(path, `type must be one type, not ${JSON.stringify(out.type)}`);

  const union = out.anyOf ?? out.oneOf;
  if (union !== undefined) {
    delete out.anyOf;
    delete out.oneOf;
    if (!Array.isArray(union) || !union.every(isSchema)) throw new StructuralSchemaError(path, 'anyOf/oneOf must list schemas');
    const branches = union.map((b, i) => convert(b, root, `${path}/anyOf/${i}`, refsInProgress));
    return sortKeywords({ ...out, ...unionToStructural(branches, path, out) });
  }

  dropZodArtifacts(out);
  if (isSchema(out.properties)) {
    const properties: JsonSchema = {};
    for (const [name, child] of Object.entries(out.properties)) {
      if (!isSchema(child)) throw new StructuralSchemaError(`${path}/properties/${name}`, 'must be a schema');
      properties[name] = convert(child, root, `${path}/properties/${name}`, refsInProgress);
    }
    out.properties = properties;
    // A structural object has properties or additionalProperties, never both; unknown fields are pruned anyway.
    if (isSchema(out.additionalProperties)) {
      throw new StructuralSchemaError(path, 'an object cannot have both properties and additionalProperties');
    }
    delete out.additionalProperties;
  } else if (isSchema(out.additionalProperties)) {
    out.additionalProperties = convert(out.additionalProperties, root, `${path}/additionalProperties`, refsInProgress);
  } else if (out.additionalProperties === false) {
    delete out.additionalProperties;
  }
  if (out.items !== undefined) {
    if (!isSchema(out.items)) throw new StructuralSchemaError(path, 'items must be one schema (tuples are not structural)');
    out.items = convert(out.items, root, `${path}/items`, refsInProgress);
  }
  if (out.type === undefined && out['x-kubernetes-int-or-string'] !== true && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    throw new StructuralSchemaError(path, 'every node needs a type');
  }
  return sortKeywords(out);
}

/** Bounds zod adds on its own (safe-integer range, the regex behind a format) that only clutter a CRD. */
function dropZodArtifacts(out: JsonSchema): void {
  if (out.type === 'integer') {
    if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
    if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
  }
  // The apiserver validates format: date-time itself; zod's regex for it is noise (and not RE2-tested).
  if (out.format === 'date-time') delete out.pattern;
}

const isNullBranch = (b: JsonSchema) => b.type === 'null' || (Array.isArray(b.enum) && b.enum.length === 1 && b.enum[0] === null);

function unionToStructural(branches: JsonSchema[], path: string, outer: JsonSchema): JsonSchema {
  const nonNull = branches.filter((b) => !isNullBranch(b));
  if (nonNull.length < branches.length) {
    const rest = nonNull.length === 1 ? nonNull[0]! : unionToStructural(nonNull, path, outer);
    return { ...rest, nullable: true };
  }
  const types = new Set(branches.map((b) => b.type));
  if (types.size === 2 && types.has('string') && (types.has('integer') || types.has('number'))) {
    return { 'x-kubernetes-int-or-string': true };
  }
  if (types.size === 1 && types.has('string') && branches.every((b) => Array.isArray(b.enum))) {
    return { type: 'string', enum: branches.flatMap((b) => b.enum as unknown[]) };
  }
  if (types.size === 1 && types.has('object')) return mergeDiscriminatedObjects(branches, path, outer);
  throw new StructuralSchemaError(path, `a union of ${[...types].join(', ')} has no structural equivalent`);
}

const singleValue = (s: unknown): unknown =>
  isSchema(s) && Array.isArray(s.enum) && s.enum.length === 1 ? s.enum[0] : undefined;
const celLiteral = (v: unknown) => `'${String(v).replaceAll("'", "\\'")}'`;

/**
 * A discriminated union of objects ({name: files, pathPrefixes: …} | {name: exec})
 * becomes one object holding every variant's properties, with CEL rules that
 * allow each property only beside its variants' discriminator values, require
 * what a variant requires, and scope each variant's own rules to that variant.
 */
function mergeDiscriminatedObjects(branches: JsonSchema[], path: string, outer: JsonSchema): JsonSchema {
  const propsOf = (b: JsonSchema) => (isSchema(b.properties) ? b.properties : {});
  const requiredOf = (b: JsonSchema) => (Array.isArray(b.required) ? (b.required as string[]) : []);
  const discriminator = Object.keys(propsOf(branches[0]!)).find((key) =>
    branches.every((b) => singleValue(propsOf(b)[key]) !== undefined && requiredOf(b).includes(key)),
  );
  if (discriminator === undefined) {
    throw new StructuralSchemaError(path, 'a union of objects needs a discriminator: a required property with one value per variant');
  }
  const valueOf = (b: JsonSchema) => singleValue(propsOf(b)[discriminator]);
  const is = (values: unknown[]) =>
    values.length === 1 ? `self.${discriminator} == ${celLiteral(values[0])}` : `self.${discriminator} in [${values.map(celLiteral).join(', ')}]`;

  const properties: JsonSchema = { [discriminator]: { ...propsOf(branches[0]!)[discriminator] as JsonSchema, enum: branches.map(valueOf) } };
  const rules: CelRule[] = [];
  const owners = new Map<string, unknown[]>();
  for (const b of branches) {
    for (const [name, schema] of Object.entries(propsOf(b))) {
      if (name === discriminator) continue;
      if (name in properties && JSON.stringify(properties[name]) !== JSON.stringify(schema)) {
        throw new StructuralSchemaError(`${path}/properties/${name}`, 'variants disagree on the schema of this property');
      }
      properties[name] = schema;
      owners.set(name, [...(owners.get(name) ?? []), valueOf(b)]);
    }
  }
  for (const [name, values] of owners) {
    if (values.length === branches.length) continue;
    rules.push({
      rule: `!has(self.${name}) || ${is(values)}`,
      message: `field ${name} belongs to ${discriminator}: ${values.join(' or ')}; remove it or change ${discriminator}`,
      fieldPath: `.${name}`,
      reason: 'FieldValueForbidden',
    });
  }
  for (const b of branches) {
    const value = valueOf(b);
    for (const name of requiredOf(b)) {
      if (name === discriminator || branches.every((other) => requiredOf(other).includes(name))) continue;
      rules.push({
        rule: `!(${is([value])}) || has(self.${name})`,
        message: `${name} is required when ${discriminator} is ${String(value)}`,
        fieldPath: `.${name}`,
        reason: 'FieldValueRequired',
      });
    }
    for (const own of (b[CEL_RULES_KEY] as CelRule[] | undefined) ?? []) {
      rules.push({ ...own, rule: `!(${is([value])}) || (${own.rule})` });
    }
  }
  const descriptions = branches.filter((b) => typeof b.description === 'string').map((b) => `${String(valueOf(b))}: ${String(b.description)}`);
  const merged: JsonSchema = {
    type: 'object',
    properties,
    required: requiredOf(branches[0]!).filter((name) => branches.every((b) => requiredOf(b).includes(name))),
  };
  const description = [outer.description, ...descriptions].filter((d) => d !== undefined).join('\n');
  if (description !== '') merged.description = description;
  const allRules = [...((outer[CEL_RULES_KEY] as CelRule[] | undefined) ?? []), ...rules];
  if (allRules.length > 0) merged[CEL_RULES_KEY] = allRules;
  return merged;
}
