// What a profile costs over the whole cluster, from what each node's agent
// measured for it (NodeTracePlan status): the sums for status.cost, the
// largest node for comparing with spec.budget, and a short form for kubectl get.
// Nodes that could not measure their CPU (BPF statistics off) are left out
// rather than counted as free.
import type { ProfileCostTotal } from '../api/cost.js';
import type { NodeReport } from './node-readiness.js';

export function profileCostTotal(reports: ReadonlyMap<string, NodeReport>): ProfileCostTotal | undefined {
  const costs = [...reports.values()].flatMap((r) => (r.entry?.cost === undefined || r.entry.cost.unmeasured !== undefined ? [] : [r.entry.cost]));
  if (costs.length === 0) return undefined;
  const sum = (pick: (c: (typeof costs)[number]) => number) => costs.reduce((total, c) => total + pick(c), 0);
  const total: ProfileCostTotal = {
    cpuCores: Number(sum((c) => c.cpuCores).toPrecision(3)),
    maxNodeCpuCores: Math.max(...costs.map((c) => c.cpuCores)),
    eventsPerSecond: Number(sum((c) => c.eventsPerSecond).toPrecision(3)),
    kernelMemoryBytes: sum((c) => c.kernelMemoryBytes),
    nodes: costs.length,
  };
  if (costs.some((c) => c.ringBufferDrops !== undefined)) total.ringBufferDrops = sum((c) => c.ringBufferDrops ?? 0);
  return total;
}

/** cpuCores as a percentage of one CPU, two significant digits: "0.32%", "4.1%". */
export function costSummary(total: ProfileCostTotal): string {
  const percent = total.cpuCores * 100;
  if (percent > 0 && percent < 0.001) return '<0.001%';
  return `${Number(percent.toPrecision(2))}%`;
}
