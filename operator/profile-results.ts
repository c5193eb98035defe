// A profile's results over all its nodes: counts summed, histograms merged,
// top lists re-ranked and cut to the profile's topN (api/merge.ts), and a
// per-pod breakdown ranked busiest first.
import { activityOf } from '../api/activity.js';
import { mergeResultSets } from '../api/merge.js';
import type { NodeProfileStatus } from '../api/nodetraceplan.js';
import type { ProbeResults } from '../api/results.js';
import type { PodResult, Truncation } from '../api/traceprofile.js';

export interface ProfileResults {
  results?: ProbeResults;
  pods?: PodResult[];
  truncated?: Truncation;
}

/** Busiest first (api/activity.ts, the same order the nodes cut by); ties by name. */
function byActivity(a: PodResult, b: PodResult): number {
  return activityOf(b.results) - activityOf(a.results) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
}

export interface NodeResults {
  node: string;
  entry: NodeProfileStatus;
}

/**
 * Merges what the nodes report for one profile. `containersOf` names the
 * traced containers of a pod (by uid). Pods are all kept, ranked; the byte
 * budget decides how many stay in status.
 */
export function mergeNodeResults(reports: readonly NodeResults[], topN: number, containersOf: (podUid: string) => string[]): ProfileResults {
  const withResults = reports.filter((r) => r.entry.results !== undefined);
  if (withResults.length === 0) return {};
  const merged: ProfileResults = {
    results: mergeResultSets(withResults.map((r) => r.entry.results as ProbeResults), topN),
  };

  const pods = new Map<string, { pod: Omit<PodResult, 'results'>; results: ProbeResults[] }>();
  for (const { node, entry } of reports) {
    for (const pod of entry.pods ?? []) {
      const seen = pods.get(pod.podUid);
      if (seen !== undefined) seen.results.push(pod.results);
      else pods.set(pod.podUid, { pod: { namespace: pod.namespace, name: pod.pod, node, containers: containersOf(pod.podUid) }, results: [pod.results] });
    }
  }
  if (pods.size > 0) {
    merged.pods = [...pods.values()]
      .map(({ pod, results }) => ({ ...pod, results: mergeResultSets(results, topN) }))
      .sort(byActivity);
  }

  const truncated = reports.reduce(
    (sum, r) => ({ pods: sum.pods + (r.entry.truncated?.pods ?? 0), topEntries: sum.topEntries + (r.entry.truncated?.topEntries ?? 0) }),
    { pods: 0, topEntries: 0 },
  );
  if (truncated.pods > 0 || truncated.topEntries > 0) merged.truncated = truncated;
  return merged;
}
