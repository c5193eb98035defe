// Keeping status small (etcd takes at most 1.5 MiB per object, and every
// watcher receives the whole object on every update): trim the least useful
// detail first, the per-pod breakdown, then the tails of the top lists, until
// the status serializes within its byte budget, and record what was left out.
import { Buffer } from 'node:buffer';
import { topListsOf } from './merge.js';
import type { NodeTracePlanStatus } from './nodetraceplan.js';
import type { ProbeResults } from './results.js';
import { coarsenTimeline, MIN_TIMELINE_COLUMNS, type Timeline } from './timeline.js';
import { DEFAULT_TOP_N, MAX_STATUS_PODS, type TraceProfileStatus, type Truncation } from './traceprofile.js';

/** Budget of TraceProfile.status, as JSON bytes. */
export const STATUS_BUDGET_BYTES = 64 * 1024;
/** Budget of NodeTracePlan.status: up to MAX_NODE_PROFILES profiles share it. */
export const NODE_STATUS_BUDGET_BYTES = 512 * 1024;

/** Results with an optional per-pod breakdown: a TraceProfile status, or one profile of a NodeTracePlan status. */
interface Breakdown {
  results?: ProbeResults;
  pods?: { results: ProbeResults }[];
  truncated?: Truncation;
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

function recordTruncation(b: Breakdown, pods: number, topEntries: number): void {
  b.truncated = { pods: (b.truncated?.pods ?? 0) + pods, topEntries: (b.truncated?.topEntries ?? 0) + topEntries };
}

/** Trims `breakdowns` (parts of `root`, mutated in place) until `root` fits in `bytes`; coarsens `root`'s timeline after the pods. */
function fitBreakdowns(root: object & { timeline?: Timeline }, breakdowns: Breakdown[], bytes: number): void {
  for (const b of breakdowns) {
    if (b.pods !== undefined && b.pods.length > MAX_STATUS_PODS) {
      recordTruncation(b, b.pods.length - MAX_STATUS_PODS, 0);
      b.pods.length = MAX_STATUS_PODS;
    }
  }
  // Pods are ranked busiest first, so the last pod of the longest breakdown goes first.
  let excess = jsonBytes(root) - bytes;
  while (excess > 0) {
    const longest = breakdowns.reduce<Breakdown | undefined>(
      (best, b) => ((b.pods?.length ?? 0) > (best?.pods?.length ?? 0) ? b : best),
      undefined,
    );
    const dropped = longest?.pods?.pop();
    if (longest === undefined || dropped === undefined) break;
    recordTruncation(longest, 1, 0);
    // Estimate (entry plus its comma) to avoid re-serializing per pod; re-measure when it says we fit.
    excess -= jsonBytes(dropped) + 1;
    if (excess <= 0) excess = jsonBytes(root) - bytes;
  }
  // Top lists are ranked too: cut every list to the same length, shorter and shorter.
  const lists = breakdowns.flatMap((b) => [
    ...(b.results === undefined ? [] : topListsOf(b.results)).map((list) => ({ b, list })),
    ...(b.pods ?? []).flatMap((pod) => topListsOf(pod.results).map((list) => ({ b, list }))),
  ]);
  let cap = Math.max(0, ...lists.map(({ list }) => list.length));
  const cutTopLists = (floor: number) => {
    while (cap > floor && jsonBytes(root) > bytes) {
      cap--;
      for (const { b, list } of lists) {
        if (list.length <= cap) continue;
        recordTruncation(b, 0, list.length - cap);
        list.length = cap;
      }
    }
  };
  // Tails past the default length go before the heat maps coarsen; a coarser
  // heat map still shows when the tail grew, a top list cut to nothing shows nothing.
  cutTopLists(DEFAULT_TOP_N);
  while (root.timeline !== undefined && root.timeline.columns > MIN_TIMELINE_COLUMNS && jsonBytes(root) > bytes) {
    root.timeline = coarsenTimeline(root.timeline);
  }
  cutTopLists(0);
}

/**
 * A copy of `status` that serializes to at most `bytes` of JSON, with the
 * per-pod breakdown capped at MAX_STATUS_PODS. Drops pods from the end of
 * `pods` (callers rank them busiest first), then shortens every top list from
 * its tail down to DEFAULT_TOP_N entries, then halves the timeline's columns
 * (down to MIN_TIMELINE_COLUMNS), then shortens the top lists further;
 * `truncated` counts what went. Histograms and counters are never
 * touched, so a status that still does not fit is as small as it can get.
 */
export function fitStatusToBudget(status: TraceProfileStatus, bytes = STATUS_BUDGET_BYTES): TraceProfileStatus {
  const fitted = structuredClone(status);
  fitBreakdowns(fitted, [fitted], bytes);
  return fitted;
}

/**
 * fitStatusToBudget for a node's report: each profile's `truncated` counts
 * what it lost. Before any result goes, the directories looked in for
 * containers not found go, except for each profile's first such container.
 */
export function fitNodeTracePlanStatusToBudget(
  status: NodeTracePlanStatus,
  bytes = NODE_STATUS_BUDGET_BYTES,
): NodeTracePlanStatus {
  const fitted = structuredClone(status);
  if (jsonBytes(fitted) > bytes) {
    for (const profile of fitted.profiles ?? []) for (const u of profile.targets.unresolved?.slice(1) ?? []) delete u.lookedIn;
  }
  fitBreakdowns(fitted, fitted.profiles ?? [], bytes);
  return fitted;
}
