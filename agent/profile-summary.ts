// A profile's accumulated results as its NodeTracePlan status shows them:
// merged over every cgroup it counted in (a restarted container's old cgroup
// still counts), and per pod, busiest first; top lists cut to the profile's
// topN. Taken once per interval, so status changes at most that often.
import { activityOf } from '../api/activity.js';
import { mergeResultSets, zeroResults } from '../api/merge.js';
import type { NodePodResult } from '../api/nodetraceplan.js';
import type { ProbeResults } from '../api/results.js';
import { PROBE_NAMES, type ProbeName } from '../probes/registry.js';
import { cgroupResults, type ProfileResults } from '../engine/probe-manager.js';

/** The pod a cgroup belongs (or belonged) to. */
export interface PodRef {
  podUid: string;
  namespace: string;
  pod: string;
}

export interface ProfileSummary {
  results: ProbeResults;
  /** Busiest first; the status budget decides how many are kept. */
  pods: NodePodResult[];
}

export interface ProfileSummaryInput {
  /** Probes the profile asks for. */
  probes: readonly ProbeName[];
  /** Probes counting for it now: shown (with zeros) even before anything happened. */
  active: readonly ProbeName[];
  results: ProfileResults;
  pods: ReadonlyMap<bigint, PodRef>;
  topN: number;
}

/** Busiest first (api/activity.ts), the order the status budget cuts from the end of; ties by name. */
export function busiestFirst(a: NodePodResult, b: NodePodResult): number {
  return (
    activityOf(b.results) - activityOf(a.results) ||
    a.namespace.localeCompare(b.namespace) ||
    a.pod.localeCompare(b.pod) ||
    a.podUid.localeCompare(b.podUid)
  );
}

export function summarizeProfile(input: ProfileSummaryInput): ProfileSummary {
  const shown = PROBE_NAMES.filter(
    (probe) => input.probes.includes(probe) && (input.active.includes(probe) || input.results[probe] !== undefined),
  );
  const counted = new Set<bigint>();
  for (const probe of shown) for (const id of input.results[probe]?.keys() ?? []) counted.add(id);
  const cgroupsByPod = new Map<string, { ref: PodRef; cgroupIds: bigint[] }>();
  for (const id of counted) {
    const ref = input.pods.get(id);
    if (ref === undefined) continue; // a cgroup no target ever named: cannot happen through the agent
    const entry = cgroupsByPod.get(ref.podUid) ?? { ref, cgroupIds: [] };
    entry.cgroupIds.push(id);
    cgroupsByPod.set(ref.podUid, entry);
  }
  // Zero results of the shown probes: each shows, with zeros, before anything happened.
  const zeros = zeroResults(shown);
  const resultsOf = (cgroupIds: readonly bigint[]): ProbeResults =>
    mergeResultSets([zeros, ...cgroupIds.map((id) => cgroupResults(input.results, id))], input.topN, shown);
  const results = resultsOf([...counted]);
  const pods = [...cgroupsByPod.values()].map(
    ({ ref, cgroupIds }): NodePodResult => ({ podUid: ref.podUid, namespace: ref.namespace, pod: ref.pod, results: resultsOf(cgroupIds) }),
  );
  pods.sort(busiestFirst);
  return { results, pods };
}
