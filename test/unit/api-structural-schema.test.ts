import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { customResourceDefinition, RESOURCE_DEFINITIONS } from '../../api/crd.js';
import { PROBE_NAMES } from '../../probes/registry.js';
import { toStructuralSchema, type JsonSchema } from '../../api/structural-schema.js';

const isSchema = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every schema node with its path: the root, properties, items, additionalProperties. */
function* nodes(schema: JsonSchema, path = ''): Generator<[string, JsonSchema]> {
  yield [path || '.', schema];
  if (isSchema(schema.properties)) {
    for (const [name, child] of Object.entries(schema.properties)) yield* nodes(child as JsonSchema, `${path}.${name}`);
  }
  if (isSchema(schema.items)) yield* nodes(schema.items, `${path}[]`);
  if (isSchema(schema.additionalProperties)) yield* nodes(schema.additionalProperties, `${path}{}`);
}

const FORBIDDEN = ['$ref', '$defs', 'definitions', '$schema', 'anyOf', 'oneOf', 'allOf', 'not', 'const', 'propertyNames'];

function openApiSchemaOf(crd: JsonSchema): JsonSchema {
  const versions = (crd.spec as { versions: { schema: { openAPIV3Schema: JsonSchema } }[] }).versions;
  return versions[0]!.schema.openAPIV3Schema;
}

function structuralProblems(schema: JsonSchema): string[] {
  const problems: string[] = [];
  for (const [path, node] of nodes(schema)) {
    if (typeof node.type !== 'string' && node['x-kubernetes-int-or-string'] !== true) problems.push(`${path}: no type`);
    for (const keyword of FORBIDDEN) if (keyword in node) problems.push(`${path}: has ${keyword}`);
    if ('properties' in node && 'additionalProperties' in node) problems.push(`${path}: properties beside additionalProperties`);
    for (const rule of (node['x-kubernetes-validations'] as { rule?: string; message?: string }[] | undefined) ?? []) {
      if (!rule.rule || !rule.message) problems.push(`${path}: CEL rule without rule or message`);
    }
    const mapKeys = node['x-kubernetes-list-map-keys'] as string[] | undefined;
    if (mapKeys !== undefined) {
      const items = node.items as JsonSchema;
      const required = (items.required as string[] | undefined) ?? [];
      for (const key of mapKeys) {
        const defaulted = isSchema(items.properties) && isSchema(items.properties[key]) && 'default' in items.properties[key];
        if (!required.includes(key) && !defaulted) problems.push(`${path}: map key ${key} is neither required nor defaulted`);
      }
    }
  }
  return problems;
}

describe('generated CRD schemas', () => {
  for (const definition of RESOURCE_DEFINITIONS) {
    it(`${definition.kind} is structural`, () => {
      const schema = openApiSchemaOf(customResourceDefinition(definition));
      assert.deepEqual(structuralProblems(schema), []);
      assert.ok([...nodes(schema)].length > 100, 'the walk reaches the whole schema');
    });
  }

  for (const definition of RESOURCE_DEFINITIONS) {
    it(`${definition.kind} bounds every list, string and map (status must stay small)`, () => {
      const unbounded = [...nodes(openApiSchemaOf(customResourceDefinition(definition)))].flatMap(([path, node]) => {
        if (path === '.apiVersion' || path === '.kind') return []; // the apiserver owns these
        if (node.type === 'array' && node.maxItems === undefined) return [path];
        if (node.type === 'string' && node.maxLength === undefined && !node.enum && !node.format) return [path];
        if (isSchema(node.additionalProperties) && node.maxProperties === undefined) return [path];
        return [];
      });
      assert.deepEqual(unbounded, []);
    });
  }

  it('carries the spec defaults Argo CD must see', () => {
    const spec = (openApiSchemaOf(customResourceDefinition(RESOURCE_DEFINITIONS[0]!)).properties as Record<string, JsonSchema>).spec!;
    const at = (path: string) => [...nodes(spec)].find(([p]) => p === path)?.[1];
    assert.equal(at('.suspend')?.default, false);
    assert.equal(at('.interval')?.default, '10s');
    assert.deepEqual(at('.output')?.default, {});
    assert.deepEqual(at('.output.status')?.default, {});
    assert.equal(at('.output.status.topN')?.default, 10);
    assert.equal(at('.output.otlp.protocol')?.default, 'grpc');
    assert.equal(at('.output.otlp.insecure')?.default, false);
  });

  it('turns the probe union into one object whose options are allowed only beside their probe', () => {
    const spec = (openApiSchemaOf(customResourceDefinition(RESOURCE_DEFINITIONS[0]!)).properties as Record<string, JsonSchema>).spec!;
    const probe = [...nodes(spec)].find(([p]) => p === '.probes[]')![1];
    assert.deepEqual((probe.properties as Record<string, JsonSchema>).name!.enum, [...PROBE_NAMES]);
    const rules = (probe['x-kubernetes-validations'] as { rule: string; fieldPath: string }[]).map((r) => [r.fieldPath, r.rule]);
    assert.deepEqual(rules, [
      ['.only', "!has(self.only) || self.name == 'syscalls'"],
      ['.pathPrefixes', "!has(self.pathPrefixes) || self.name == 'files'"],
      ['.serverPorts', "!has(self.serverPorts) || self.name == 'dns'"],
      ['.frequency', "!has(self.frequency) || self.name == 'profile'"],
      ['.ports', "!has(self.ports) || self.name == 'http'"],
    ]);
  });
});

describe('toStructuralSchema', () => {
  const convert = (schema: z.ZodType) => toStructuralSchema(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as JsonSchema);

  it('makes an int-or-string union x-kubernetes-int-or-string', () => {
    const out = convert(z.object({ port: z.union([z.number().int(), z.string()]).describe('Port.') }));
    assert.deepEqual((out.properties as Record<string, JsonSchema>).port, { description: 'Port.', 'x-kubernetes-int-or-string': true });
  });

  it('makes a nullable value nullable, and a union of literals an enum', () => {
    const out = convert(z.object({ a: z.string().nullable(), b: z.union([z.literal('x'), z.literal('y')]) }));
    const props = out.properties as Record<string, JsonSchema>;
    assert.deepEqual(props.a, { type: 'string', nullable: true });
    assert.deepEqual(props.b, { type: 'string', enum: ['x', 'y'] });
  });

  it('inlines $ref and drops what apiextensions rejects', () => {
    const registry = z.registry<{ id: string }>();
    const Shared = z.object({ n: z.number().int().min(0) });
    registry.add(Shared, { id: 'Shared' });
    const raw = z.toJSONSchema(z.strictObject({ a: Shared, b: Shared }), { target: 'openapi-3.0', io: 'input', metadata: registry }) as JsonSchema;
    assert.match(JSON.stringify(raw), /\$ref/, 'the input really has references');
    const out = toStructuralSchema(raw);
    assert.deepEqual(structuralProblems(out), []);
    const props = out.properties as Record<string, JsonSchema>;
    assert.deepEqual(props.a, { type: 'object', properties: { n: { type: 'integer', minimum: 0 } }, required: ['n'] });
    assert.deepEqual(props.b, props.a);
    assert.equal('additionalProperties' in out, false);
  });

  it('rejects recursion, naming where', () => {
    const Tree: z.ZodType = z.lazy(() => z.object({ children: z.array(Tree) }));
    assert.throws(() => convert(z.object({ root: Tree })), /recursive schema/);
  });

  it('rejects a union Kubernetes cannot express, naming the path', () => {
    assert.throws(() => convert(z.object({ flag: z.union([z.string(), z.boolean()]) })), /#\/properties\/flag: a union of string, boolean/);
  });

  it('rejects a union of objects without a discriminator', () => {
    assert.throws(
      () => convert(z.object({ x: z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]) })),
      /needs a discriminator/,
    );
  });

  it('requires a variant-only required field only for that variant, and scopes its rules', () => {
    const out = convert(
      z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('a') }),
        z.object({ kind: z.literal('b'), size: z.number().int() }).meta({ 'x-kubernetes-validations': [{ rule: 'self.size > 0', message: 'size must be positive' }] }),
      ]),
    );
    assert.deepEqual(out.required, ['kind']);
    assert.deepEqual(
      (out['x-kubernetes-validations'] as { rule: string }[]).map((r) => r.rule),
      ["!has(self.size) || self.kind == 'b'", "!(self.kind == 'b') || has(self.size)", "!(self.kind == 'b') || (self.size > 0)"],
    );
  });
});
