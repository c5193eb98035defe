// NodeTracePlan: what one node's agent must trace (spec, written by the
// operator) and what it reports (status, written by that node's agent only).
// Cluster-scoped and named after its node, so each agent watches one object
// and no two writers share a status.
import { z } from 'zod';
import { withCelRules } from './cel.js';
import { BudgetSchema, NodeCostSchema, ProfileCostSchema } from './cost.js';
import type { ResourceType } from '../kube/resource-type.js';
import { LOUPE_API_VERSION, LOUPE_GROUP, LOUPE_VERSION } from './group.js';
import { DnsLabelSchema, ObjectMetaSchema, TimestampSchema } from './meta.js';
import { OtlpOutputSchema } from './otlp.js';
import { parseWith, type ParseResult } from './parse.js';
import { MAX_PROBES, ProbeSpecListSchema } from './probes.js';
import { ProbeNameSchema, ProbeResultsSchema } from './results.js';
import { MAX_TOP_N } from './top-list.js';
import { MAX_STATUS_PODS, TruncationSchema } from './traceprofile.js';

export const NODE_TRACE_PLAN_KIND = 'NodeTracePlan';
export const NODE_TRACE_PLAN_PLURAL = 'nodetraceplans';
export const nodeTracePlanResource: ResourceType = { group: LOUPE_GROUP, version: LOUPE_VERSION, plural: NODE_TRACE_PLAN_PLURAL };

/** Profiles that can target one node at once. */
export const MAX_NODE_PROFILES = 64;
/** Containers one profile can target on one node (a node runs at most a few hundred). */
export const MAX_NODE_TARGETS = 512;

const count = z.number().int().min(0);

export const NodeTraceTargetSchema = z.object({
  podUid: z.string().min(1).max(64),
  configHash: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe(
      "Static pods only: the kubelet's config hash (the mirror pod's kubernetes.io/config.mirror annotation), " +
        "which is the pod's uid on its node and names its cgroup in place of podUid.",
    ),
  namespace: z.string().min(1).max(63),
  pod: z.string().min(1).max(253),
  container: DnsLabelSchema,
  containerId: z.string().min(1).max(256).describe('As in pod status: <runtime>://<id>, e.g. containerd://4f1c….'),
});
export type NodeTraceTarget = z.infer<typeof NodeTraceTargetSchema>;

export const NodeProfilePlanSchema = z.object({
  uid: z.string().min(1).max(64).describe('UID of the TraceProfile.'),
  namespace: z.string().min(1).max(63),
  name: z.string().min(1).max(253),
  generation: count.describe('metadata.generation of the TraceProfile this entry was planned from.'),
  probes: ProbeSpecListSchema,
  interval: z.string().max(32).describe('Reporting interval, a duration such as 10s (validated on the TraceProfile).'),
  topN: z.number().int().min(1).max(MAX_TOP_N),
  otlp: OtlpOutputSchema.optional(),
  budget: BudgetSchema.optional(),
  active: z
    .boolean()
    .describe('false when the profile is suspended or completed: detach its probes, keep reporting its final results.'),
  // Defaulted, not required: server-side apply drops an associative list its
  // applier empties (a profile kept for its results has no targets), and the
  // default puts the empty list back.
  targets: z
    .array(NodeTraceTargetSchema)
    .max(MAX_NODE_TARGETS)
    .default([])
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['containerId'] }),
});
export type NodeProfilePlan = z.infer<typeof NodeProfilePlanSchema>;

/**
 * The operator's shortest report interval, the shortest a TraceProfile may ask
 * for: a plan at it is in a cluster small enough (up to 230 nodes) that every
 * agent may write at once when a change reaches them all.
 */
export const MIN_REPORT_INTERVAL_SECONDS = 5;

export const NodeTracePlanSpecSchema = z.object({
  nodeName: z.string().min(1).max(253),
  profiles: z
    .array(NodeProfilePlanSchema)
    .max(MAX_NODE_PROFILES)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['uid'] }),
  reportIntervalSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .optional()
    .describe(
      "The least time between two status writes of this node's agent, set by the operator from the cluster's size " +
        'so that all agents together stay within the API write budget. A plan change is reported at once at 5 seconds; ' +
        'above, at a point of the next (interval - 5) seconds drawn from the node name, so a change that reaches every node ' +
        'does not bring every agent at once.',
    ),
});
export type NodeTracePlanSpec = z.infer<typeof NodeTracePlanSpecSchema>;

export const NODE_PROFILE_STATES = ['Pending', 'Running', 'Stopped', 'Failed'] as const;
export const NodeProfileStateSchema = z.enum(NODE_PROFILE_STATES);
export type NodeProfileState = z.infer<typeof NodeProfileStateSchema>;

export const NodePodResultSchema = z.object({
  podUid: z.string().max(64),
  namespace: z.string().max(63),
  pod: z.string().max(253),
  results: ProbeResultsSchema,
});
export type NodePodResult = z.infer<typeof NodePodResultSchema>;

/** BudgetExceeded: the agent dropped probes of the profile on this node to keep it within spec.budget. */
export const NodeProfileErrorReasonSchema = z.enum(['BudgetExceeded']);
export type NodeProfileErrorReason = z.infer<typeof NodeProfileErrorReasonSchema>;

export const NodeProfileStatusSchema = z.object({
  uid: z.string().min(1).max(64),
  state: NodeProfileStateSchema,
  probesLoaded: z.array(ProbeNameSchema).max(MAX_PROBES).describe('Probes attached for this profile on this node.'),
  targets: z.object({
    resolved: count.describe('Containers whose cgroup was found and is filtered in.'),
    unresolved: z
      .array(
        z.object({
          containerId: z.string().max(256),
          pod: z.string().max(317).optional().describe('<namespace>/<name> of its pod.'),
          container: z.string().max(63).optional().describe('Its name in the pod.'),
          reason: z.string().max(256),
          lookedIn: z
            .array(z.string().max(512))
            .max(6)
            .optional()
            .describe("The cgroup directories the agent looked for it in (paths in the agent's mount of the host's cgroup2 hierarchy)."),
        }),
      )
      .max(16)
      .optional()
      .describe('The first containers whose cgroup the agent could not find, why, and where it looked; it keeps looking.'),
  }),
  errors: z
    .array(
      z.object({
        probe: ProbeNameSchema.optional(),
        reason: NodeProfileErrorReasonSchema.optional().describe('Set for errors the operator reports under their own condition reason.'),
        message: z.string().max(512),
      }),
    )
    .max(8)
    .optional(),
  results: ProbeResultsSchema.optional(),
  pods: z.array(NodePodResultSchema).max(MAX_STATUS_PODS).optional().describe('The busiest pods on this node, busiest first.'),
  truncated: TruncationSchema.optional(),
  observedGeneration: count.optional().describe('The spec generation of the profile these results were taken under.'),
  cost: ProfileCostSchema.optional().describe("This profile's cost on this node over the agent's last interval."),
});
export type NodeProfileStatus = z.infer<typeof NodeProfileStatusSchema>;

export const NodeTracePlanStatusSchema = z.object({
  heartbeat: TimestampSchema.optional().describe('Last time the agent wrote this status.'),
  agentVersion: z.string().max(64).optional(),
  observedGeneration: count
    .optional()
    .describe("The plan's metadata.generation the agent has applied: every target in its spec is filtered in or listed as unresolved."),
  cost: NodeCostSchema.optional().describe("What tracing costs this node over the agent's last interval, all profiles together."),
  profiles: z
    .array(NodeProfileStatusSchema)
    .max(MAX_NODE_PROFILES)
    .optional()
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['uid'] }),
});
export type NodeTracePlanStatus = z.infer<typeof NodeTracePlanStatusSchema>;

export const NodeTracePlanSchema = withCelRules(
  z.object({
    apiVersion: z.literal(LOUPE_API_VERSION),
    kind: z.literal(NODE_TRACE_PLAN_KIND),
    metadata: ObjectMetaSchema,
    spec: NodeTracePlanSpecSchema,
    status: NodeTracePlanStatusSchema.optional(),
  }),
  {
    rule: 'self.metadata.name == self.spec.nodeName',
    message: 'spec.nodeName must equal metadata.name: a NodeTracePlan is named after its node',
    fieldPath: '.spec.nodeName',
    holds: (plan) => plan.metadata.name === plan.spec.nodeName,
  },
);
export type NodeTracePlan = z.infer<typeof NodeTracePlanSchema>;

export function parseNodeTracePlan(obj: unknown): ParseResult<NodeTracePlan> {
  return parseWith(NodeTracePlanSchema, obj, NODE_TRACE_PLAN_KIND);
}
