// What tracing costs and how much it may cost: the measured cost a node's
// agent reports per profile and for itself (NodeTracePlan status), the sum
// over nodes (TraceProfile status), and the per-node budget a profile sets.
// CPU is in cores (1 = one CPU busy all the time), as Kubernetes counts it.
import { z } from 'zod';
import { withCelRules } from './cel.js';

/** No node has more; a bound for the schema, not a limit anyone should reach. */
const MAX_CORES = 4096;
const cores = z.number().min(0).max(MAX_CORES);
const perSecond = z.number().min(0);
const bytes = z.number().int().min(0);
/** Events a probe's ring buffer lost in the last interval; absent for probes without one. */
const drops = z.number().int().min(0).optional();

export const ProfileCostSchema = z.object({
  cpuCores: cores.describe(
    'CPU time of the probe programs in the kernel attributed to this profile, in cores (0.0032 = 0.32% of one CPU). ' +
      'A program shared by profiles is split in proportion to the events each got from it.',
  ),
  eventsPerSecond: perSecond.describe('Events (syscalls, execs, samples, …) counted for this profile per second.'),
  kernelMemoryBytes: bytes.describe("Locked kernel memory of the probes' maps, shared equally by the profiles using each probe."),
  ringBufferDrops: drops.describe(
      "Rare events (exec, TCP, OOM) lost in the last interval because a ring buffer of this profile's probes was full. " +
        'Whose event was lost is not known, so every profile using the probe counts all of its drops. ' +
        'Absent when none of its probes posts events through a ring buffer.',
    ),
  unmeasured: z
    .string()
    .max(256)
    .optional()
    .describe('Why cpuCores is 0 because it could not be measured (BPF run-time statistics are off).'),
});
export type ProfileCost = z.infer<typeof ProfileCostSchema>;

export const NodeCostSchema = ProfileCostSchema.extend({
  cpuCores: cores.describe('CPU time of every loaded probe program in the kernel, in cores.'),
  eventsPerSecond: perSecond.describe('Events counted for any profile on this node per second.'),
  kernelMemoryBytes: bytes.describe("Locked kernel memory of every loaded probe's maps."),
  agentCpuCores: cores.describe("The agent process's own CPU time (user and system), in cores."),
  agentMemoryBytes: bytes.describe("The agent process's resident memory."),
  ringBufferDrops: drops.describe(
      'Rare events (exec, TCP, OOM) lost in the last interval because a ring buffer was full (the agent read too slowly). ' +
        'Absent when no loaded probe posts events through a ring buffer.',
    ),
});
export type NodeCost = z.infer<typeof NodeCostSchema>;

export const ProfileCostTotalSchema = z.object({
  cpuCores: cores.describe("Sum over nodes of the profile's kernel CPU time, in cores."),
  maxNodeCpuCores: cores.describe('The largest per-node cpuCores: what spec.budget.maxCpuPerNode is compared with.'),
  eventsPerSecond: perSecond.describe('Sum over nodes of events per second.'),
  kernelMemoryBytes: bytes.describe("Sum over nodes of the profile's share of probe map memory."),
  nodes: z.number().int().min(0).describe('Nodes whose cost is included (measured and reported).'),
  ringBufferDrops: drops.describe("Sum over nodes of the events its probes' ring buffers dropped in their last interval; absent when none of its probes has a ring buffer."),
});
export type ProfileCostTotal = z.infer<typeof ProfileCostTotalSchema>;

/** `50m` (millicores) or `0.05` (cores): the two ways Kubernetes writes CPU. */
const CPU_PATTERN = /^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$/;

/** Cores in a CPU quantity such as `50m` or `0.05`; undefined when it is not one. */
export function parseCpuCores(quantity: string): number | undefined {
  if (!CPU_PATTERN.test(quantity)) return undefined;
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

export const BudgetSchema = withCelRules(
  withCelRules(
    z.object({
      maxCpuPerNode: z
        .string()
        .max(16)
        .regex(CPU_PATTERN, { error: 'budget.maxCpuPerNode is a CPU quantity: millicores such as 50m, or cores such as 0.05' })
        .optional()
        .describe(
          'Most kernel CPU the profile may use on any one node, as Kubernetes writes CPU: 50m (millicores) = 0.05 cores = 5% of one CPU.',
        ),
      maxEventsPerSecond: z
        .number()
        .int()
        .min(1)
        .max(1_000_000_000)
        .optional()
        .describe('Most events per second the profile may count on any one node.'),
    }),
    {
      rule: 'has(self.maxCpuPerNode) || has(self.maxEventsPerSecond)',
      message: 'budget must set maxCpuPerNode (e.g. 50m) or maxEventsPerSecond, or be omitted',
      holds: (b) => b.maxCpuPerNode !== undefined || b.maxEventsPerSecond !== undefined,
    },
  ),
  {
    rule: "!has(self.maxCpuPerNode) || !self.maxCpuPerNode.matches('^0+m$|^0+(\\\\.0+)?$')",
    message: 'budget.maxCpuPerNode must be above zero, e.g. 50m',
    fieldPath: '.maxCpuPerNode',
    holds: (b) => b.maxCpuPerNode === undefined || (parseCpuCores(b.maxCpuPerNode) ?? 1) > 0,
  },
).describe(
  'Most this profile may cost on one node. When a node measures more for 3 intervals in a row, its agent drops the ' +
    "profile's costliest probe there (and again after 3 more), and the profile turns Degraded with reason BudgetExceeded.",
);
export type Budget = z.infer<typeof BudgetSchema>;
