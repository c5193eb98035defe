// Merging probe results: across collection intervals, cgroups, pods and
// nodes. Pure, so the agent and the operator merge the same way, each probe
// as its descriptor says (probes/<name>/): counts sum, histograms add bucket
// by bucket (latency summaries are recomputed from the merged histogram,
// never averaged), top lists are re-ranked after summing per key.
import { descriptorOf, PROBE_NAMES, type ProbeName, type ResultOf } from '../probes/registry.js';
import type { ProbeResults } from './results.js';
import { boundTop, type RankedEntry } from './top-list.js';

/** The merge of results of one probe; with no results, that probe's zero result. */
export function mergeProbeResults<N extends ProbeName>(probe: N, results: readonly ResultOf<N>[]): ResultOf<N> {
  return descriptorOf(probe).merge(results);
}

export function emptyProbeResult<N extends ProbeName>(probe: N): ResultOf<N> {
  return mergeProbeResults(probe, []);
}

/** The same result with every top list cut by `cut` (boundTop for status, foldTop for memory). */
export function withTopLists<N extends ProbeName>(
  probe: N,
  result: ResultOf<N>,
  cut: (list: readonly RankedEntry[]) => RankedEntry[],
): ResultOf<N> {
  const out: Record<string, unknown> = { ...result };
  for (const field of descriptorOf(probe).topLists) out[field] = cut(out[field] as RankedEntry[]);
  return out as ResultOf<N>;
}

/** Every top list of a result set, each probe's first list first. */
export function topListsOf(results: ProbeResults): RankedEntry[][] {
  return PROBE_NAMES.flatMap((probe) => {
    const result = results[probe] as Record<string, unknown> | undefined;
    return result === undefined ? [] : descriptorOf(probe).topLists.map((field) => result[field] as RankedEntry[]);
  });
}

/** Zero results of these probes: merged in, they make a probe show (with zeros) before anything happened. */
export function zeroResults(probes: readonly ProbeName[]): ProbeResults {
  const zeros: Record<string, unknown> = {};
  for (const probe of probes) zeros[probe] = emptyProbeResult(probe);
  return zeros as ProbeResults;
}

/**
 * The one merge-then-cut: whole result sets (a profile's results of several
 * cgroups, pods or nodes, or a live summary and its baseline) merged probe by
 * probe, then every top list cut to topN. `probes`: only these (default all);
 * a probe no set has stays absent.
 */
export function mergeResultSets(sets: readonly ProbeResults[], topN: number, probes: readonly ProbeName[] = PROBE_NAMES): ProbeResults {
  const merged: Record<string, unknown> = {};
  for (const probe of PROBE_NAMES) {
    if (!probes.includes(probe)) continue;
    const present = sets.flatMap((s) => (s[probe] === undefined ? [] : [s[probe] as ResultOf<typeof probe>]));
    if (present.length > 0) merged[probe] = withTopLists(probe, mergeProbeResults(probe, present), (list) => boundTop(list, topN));
  }
  return merged as ProbeResults;
}
