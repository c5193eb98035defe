// The CustomResourceDefinitions of Loupe, derived from the zod schemas (the
// single source of truth) and rendered as the YAML files under crds/.
import { stringify } from 'yaml';
import { z } from 'zod';
import { CEL_RULES_KEY, celRulesOf } from './cel.js';
import { LOUPE_CATEGORY, LOUPE_GROUP, LOUPE_VERSION } from './group.js';
import { NODE_TRACE_PLAN_KIND, NODE_TRACE_PLAN_PLURAL, NodeTracePlanSchema } from './nodetraceplan.js';
import { toStructuralSchema, type JsonSchema } from './structural-schema.js';
import { TRACE_PROFILE_KIND, TRACE_PROFILE_PLURAL, TraceProfileSchema } from './traceprofile.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  /** 1: shown only with -o wide. */
  priority?: number;
}

export interface ResourceDefinition {
  /** The whole object (apiVersion, kind, metadata, spec, status). */
  schema: z.ZodObject;
  kind: string;
  plural: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  printerColumns: PrinterColumn[];
}

const AGE_COLUMN: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const TRACE_PROFILE_DEFINITION: ResourceDefinition = {
  schema: TraceProfileSchema,
  kind: TRACE_PROFILE_KIND,
  plural: TRACE_PROFILE_PLURAL,
  shortNames: ['tprof'],
  scope: 'Namespaced',
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Pods', type: 'integer', jsonPath: '.status.targets.pods', description: 'Pods the selector matches.' },
    { name: 'Nodes', type: 'string', jsonPath: '.status.nodesReady', description: 'Nodes tracing / nodes with target pods.' },
    { name: 'Probes', type: 'string', jsonPath: '.status.probes', priority: 1 },
    { name: 'Duration', type: 'string', jsonPath: '.spec.duration', priority: 1 },
    { name: 'Headline', type: 'string', jsonPath: '.status.headline' },
    { name: 'CPU', type: 'string', jsonPath: '.status.costSummary', description: 'Kernel CPU of the probes for this profile, all nodes, in % of one CPU.' },
    AGE_COLUMN,
  ],
};

export const NODE_TRACE_PLAN_DEFINITION: ResourceDefinition = {
  schema: NodeTracePlanSchema,
  kind: NODE_TRACE_PLAN_KIND,
  plural: NODE_TRACE_PLAN_PLURAL,
  shortNames: ['ntp'],
  scope: 'Cluster',
  printerColumns: [
    { name: 'Heartbeat', type: 'date', jsonPath: '.status.heartbeat', description: 'Last report from the node agent.' },
    { name: 'Agent', type: 'string', jsonPath: '.status.agentVersion', priority: 1 },
    AGE_COLUMN,
  ],
};

export const RESOURCE_DEFINITIONS = [TRACE_PROFILE_DEFINITION, NODE_TRACE_PLAN_DEFINITION];

function structuralSchemaOf(schema: z.ZodType, field: string): JsonSchema {
  const generated = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as JsonSchema;
  return toStructuralSchema(generated, field);
}

/** The openAPIV3Schema of a resource: spec and status from zod, the envelope as every CRD declares it. */
function openApiSchema(definition: ResourceDefinition): JsonSchema {
  const { spec, status } = definition.schema.shape;
  if (spec === undefined || status === undefined) throw new Error(`${definition.kind}: the zod schema needs spec and status`);
  // The apiserver owns apiVersion, kind and metadata; a CRD may not constrain metadata beyond name.
  const schema: JsonSchema = {
    type: 'object',
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { type: 'object' },
      spec: structuralSchemaOf(spec, 'spec'),
      status: structuralSchemaOf(status, 'status'),
    },
    required: ['spec'],
  };
  const rootRules = celRulesOf(definition.schema);
  if (rootRules.length > 0) schema[CEL_RULES_KEY] = rootRules;
  return schema;
}

export function customResourceDefinition(definition: ResourceDefinition): JsonSchema {
  const singular = definition.kind.toLowerCase();
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${definition.plural}.${LOUPE_GROUP}` },
    spec: {
      group: LOUPE_GROUP,
      names: {
        kind: definition.kind,
        listKind: `${definition.kind}List`,
        plural: definition.plural,
        singular,
        shortNames: definition.shortNames,
        categories: [LOUPE_CATEGORY],
      },
      scope: definition.scope,
      versions: [
        {
          name: LOUPE_VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: openApiSchema(definition) },
          subresources: { status: {} },
          additionalPrinterColumns: definition.printerColumns,
        },
      ],
    },
  };
}

const GENERATED_HEADER = '# Generated from api/ by npm run crds; do not edit.\n';

const crdFileName = (definition: ResourceDefinition) => `${LOUPE_GROUP}_${definition.plural}.yaml`;

function kustomization(resources: string[]): string {
  return stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources });
}

/** Every generated file, by path relative to the repository root. */
export function renderCrdFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const definition of RESOURCE_DEFINITIONS) {
    // lineWidth 0: never fold long CEL rules or descriptions across lines.
    files.set(`crds/${crdFileName(definition)}`, GENERATED_HEADER + stringify(customResourceDefinition(definition), { lineWidth: 0 }));
  }
  // kustomize loads files only from below its root, so config/crd points at crds/ as a kustomization of its
  // own, named Kustomization (a name kustomize accepts) so `kubectl apply -f crds/` skips it: no .yaml suffix.
  files.set('crds/Kustomization', GENERATED_HEADER + kustomization(RESOURCE_DEFINITIONS.map(crdFileName)));
  files.set('config/crd/kustomization.yaml', GENERATED_HEADER + kustomization(['../../crds']));
  return files;
}
