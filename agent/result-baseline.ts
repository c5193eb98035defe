// An agent that restarts picks up where it left off. The kernel freed the old
// process's maps with its fds, so counting starts again from zero; what the
// old process last wrote in the plan's status becomes a baseline that is
// merged into every summary the new one reports, so no total goes backwards.
// Only results taken under the spec the plan still carries (same profile uid,
// same generation) are kept: anything else would mix two specs' numbers.
import { mergeResultSets } from '../api/merge.js';
import type { NodePodResult, NodeTracePlan } from '../api/nodetraceplan.js';
import type { ProbeName } from '../probes/registry.js';
import { busiestFirst, type ProfileSummary } from './profile-summary.js';

/** Per profile uid, what the plan's status held for the profiles its spec still carries. */
export function baselinesFromPlan(plan: NodeTracePlan): Map<string, ProfileSummary> {
  const baselines = new Map<string, ProfileSummary>();
  for (const entry of plan.spec.profiles) {
    const reported = plan.status?.profiles?.find((p) => p.uid === entry.uid);
    if (reported?.results === undefined || reported.observedGeneration !== entry.generation) continue;
    baselines.set(entry.uid, { results: reported.results, pods: reported.pods ?? [] });
  }
  return baselines;
}

/**
 * The live summary with the baseline added in, pods matched by uid and ranked
 * busiest first again. The baseline's top lists (and pods) were already cut
 * to topN (and the status budget) when it was written, so a key it had left
 * out adds only its counts from after the restart; totals stay exact.
 */
export function withBaseline(
  live: ProfileSummary,
  baseline: ProfileSummary | undefined,
  probes: readonly ProbeName[],
  topN: number,
): ProfileSummary {
  if (baseline === undefined) return live;
  const pods = new Map<string, NodePodResult>(live.pods.map((pod) => [pod.podUid, pod]));
  for (const old of baseline.pods) {
    const now = pods.get(old.podUid);
    const results = mergeResultSets([now?.results ?? {}, old.results], topN, probes);
    if (Object.keys(results).length > 0) pods.set(old.podUid, { ...(now ?? old), results });
  }
  return {
    results: mergeResultSets([live.results, baseline.results], topN, probes),
    pods: [...pods.values()].sort(busiestFirst),
  };
}
