// TraceProfile: what a user asks Loupe to trace (spec) and what Loupe found
// (status, written by the operator only). Namespaced: a profile traces pods of
// its own namespace.
import { z } from 'zod';
import { BudgetSchema, ProfileCostTotalSchema } from './cost.js';
import { durationSchema } from './duration.js';
import type { ResourceType } from '../kube/resource-type.js';
import { LOUPE_API_VERSION, LOUPE_GROUP, LOUPE_VERSION } from './group.js';
import { ConditionListSchema, DnsLabelSchema, LabelSelectorSchema, ObjectMetaSchema, TimestampSchema } from './meta.js';
import { OtlpOutputSchema } from './otlp.js';
import { parseWith, type ParseResult } from './parse.js';
import { ProbeSpecListSchema } from './probes.js';
import { ProbeResultsSchema } from './results.js';
import { MAX_TOP_N } from './top-list.js';
import { TimelineSchema } from './timeline.js';
import { PROBE_NAMES } from '../probes/registry.js';

export const TRACE_PROFILE_KIND = 'TraceProfile';
export const TRACE_PROFILE_PLURAL = 'traceprofiles';
export const traceProfileResource: ResourceType = { group: LOUPE_GROUP, version: LOUPE_VERSION, plural: TRACE_PROFILE_PLURAL };

/** Longest session: tracing is meant to be temporary; suspend and resume to go on. */
export const MAX_PROFILE_DURATION = '168h';
export const DEFAULT_INTERVAL = '10s';
export const DEFAULT_TOP_N = 10;
/** Per-pod breakdown entries kept in status (the busiest pods). */
export const MAX_STATUS_PODS = 20;
/** Node errors quoted in status; the rest are counted in nodes.total - nodes.ready. */
export const MAX_STATUS_NODE_ERRORS = 5;

export const TraceProfileSpecSchema = z.object({
  selector: LabelSelectorSchema.describe('Pods of this namespace to trace; {} selects all of them.'),
  containers: z
    .array(DnsLabelSchema)
    .min(1)
    .max(16)
    .optional()
    .meta({ 'x-kubernetes-list-type': 'set' })
    .describe(
      'Containers to trace in each pod, by name: app, init (native sidecars too) or ephemeral containers; all of them when omitted.',
    ),
  probes: ProbeSpecListSchema.describe('What to trace; each probe at most once.'),
  duration: durationSchema({
    field: 'duration',
    min: '0s',
    minInclusive: false,
    max: MAX_PROFILE_DURATION,
    example: '10m or 1h30m',
  })
    .optional()
    .describe(
      `How long to trace (${MAX_PROFILE_DURATION} at most), in wall-clock time from status.startedAt; suspending does not extend it. No limit when omitted.`,
    ),
  suspend: z.boolean().default(false).describe('Detach every probe and keep the results so far; set false to resume.'),
  interval: durationSchema({ field: 'interval', min: '5s', minInclusive: true, max: '10m', example: '10s or 1m' })
    .default(DEFAULT_INTERVAL)
    .describe('How often nodes report and status is refreshed.'),
  output: z
    .object({
      status: z
        .object({
          topN: z
            .number()
            .int()
            .min(1)
            .max(MAX_TOP_N)
            .default(DEFAULT_TOP_N)
            .describe('Length of every top list (commands, paths, syscalls, peers) in status.'),
        })
        .prefault({}),
      otlp: OtlpOutputSchema.optional().describe('Also export everything to this OTLP endpoint.'),
    })
    .prefault({}),
  budget: BudgetSchema.optional(),
});
export type TraceProfileSpec = z.infer<typeof TraceProfileSpecSchema>;
/** A spec as written by a user, before defaults. */
export type TraceProfileSpecInput = z.input<typeof TraceProfileSpecSchema>;

export const TRACE_PROFILE_PHASES = ['Pending', 'Running', 'Completed', 'Suspended', 'Failed'] as const;
export const TraceProfilePhaseSchema = z.enum(TRACE_PROFILE_PHASES);
export type TraceProfilePhase = z.infer<typeof TraceProfilePhaseSchema>;

const count = z.number().int().min(0);

export const PodResultSchema = z.object({
  namespace: z.string().max(63),
  name: z.string().max(253),
  node: z.string().max(253),
  containers: z.array(z.string().max(63)).max(16),
  results: ProbeResultsSchema,
});
export type PodResult = z.infer<typeof PodResultSchema>;

/** What fitStatusToBudget left out so status fits its byte budget; absent when nothing was. */
export const TruncationSchema = z.object({
  pods: count.describe('Per-pod breakdown entries left out.'),
  topEntries: count.describe('Top-list entries left out.'),
});
export type Truncation = z.infer<typeof TruncationSchema>;

export const TraceProfileStatusSchema = z.object({
  phase: TraceProfilePhaseSchema.optional(),
  conditions: ConditionListSchema.optional(),
  observedGeneration: count.optional(),
  targets: z
    .object({ pods: count, containers: count, nodes: count })
    .optional()
    .describe('What the selector matches right now.'),
  nodes: z
    .object({
      ready: count.describe('Nodes whose agent runs every probe of this profile.'),
      total: count,
      errors: z
        .array(z.object({ node: z.string().max(253), message: z.string().max(512) }))
        .max(MAX_STATUS_NODE_ERRORS)
        .optional(),
    })
    .optional(),
  nodesReady: z.string().max(32).optional().describe('ready/total, e.g. 2/3, for kubectl get.'),
  probes: z
    .string()
    .max(PROBE_NAMES.join(',').length)
    .optional()
    .describe('Probe names, e.g. exec,tcp, for kubectl get.'),
  headline: z.string().max(128).optional().describe('One-line summary, e.g. "1.2k execs, p99 3.1ms", for kubectl get.'),
  startedAt: TimestampSchema.optional(),
  expiresAt: TimestampSchema.optional().describe('startedAt + duration; absent without a duration.'),
  results: ProbeResultsSchema.optional().describe('Totals over every targeted pod.'),
  pods: z.array(PodResultSchema).max(MAX_STATUS_PODS).optional().describe('The busiest pods, busiest first.'),
  truncated: TruncationSchema.optional(),
  timeline: TimelineSchema.optional(),
  cost: ProfileCostTotalSchema.optional().describe('What tracing this profile costs, measured by the agents.'),
  costSummary: z.string().max(32).optional().describe('cost.cpuCores as a percentage of one CPU, e.g. 0.32%, for kubectl get.'),
});
export type TraceProfileStatus = z.infer<typeof TraceProfileStatusSchema>;

export const TraceProfileSchema = z.object({
  apiVersion: z.literal(LOUPE_API_VERSION),
  kind: z.literal(TRACE_PROFILE_KIND),
  metadata: ObjectMetaSchema,
  spec: TraceProfileSpecSchema,
  status: TraceProfileStatusSchema.optional(),
});
export type TraceProfile = z.infer<typeof TraceProfileSchema>;

/** The object with defaults applied, or every problem with the path of its field. */
export function parseTraceProfile(obj: unknown): ParseResult<TraceProfile> {
  return parseWith(TraceProfileSchema, obj, TRACE_PROFILE_KIND);
}
