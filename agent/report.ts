// A profile's accumulated results as a report: totals over its targets and a
// per-target breakdown, top lists cut to N, latencies as p50/p90/p99 (with the
// histogram they come from). Plain JSON: cgroup ids are decimal strings.
import { boundTop, emptyProbeResult, mergeProbeResults, withTopList, type ResultOf } from '../api/merge.js';
import type { ProfileCost } from '../api/cost.js';
import type { ProbeName, ProbeResults } from '../api/results.js';
import type { ProbeFailure } from './probe-failure.js';
import type { ProfileResults } from './probe-manager.js';

export interface ReportTarget {
  /** How the user named the target: `pid 1234`, `container 3f2a…`, `cgroup /kubepods.slice/…`. */
  label: string;
  cgroupId: bigint;
}

export interface TargetReport {
  target: string;
  cgroupId: string;
  results: ProbeResults;
}

export interface ProfileReport {
  profileId: string;
  /** Probes that counted; a probe in `failed` has no results. */
  probes: ProbeName[];
  failed: ProbeFailure[];
  /** Sum over all targets (a cgroup named twice counts once). */
  totals: ProbeResults;
  targets: TargetReport[];
  /** What tracing cost over the whole session, when measured (agent/cost). */
  cost?: ProfileCost;
}

export interface ProfileReportInput {
  profileId: string;
  probes: readonly ProbeName[];
  failed: readonly ProbeFailure[];
  results: ProfileResults;
  targets: readonly ReportTarget[];
  top: number;
  cost?: ProfileCost;
}

function resultFor<N extends ProbeName>(results: ProfileResults, probe: N, cgroupId: bigint): ResultOf<N> {
  const byCgroup = results[probe] as Map<bigint, ResultOf<N>> | undefined;
  return byCgroup?.get(cgroupId) ?? emptyProbeResult(probe);
}

function setResult<N extends ProbeName>(into: ProbeResults, probe: N, result: ResultOf<N>, top: number): void {
  (into as Record<N, ResultOf<N>>)[probe] = withTopList(probe, result, (list) => boundTop(list, top));
}

export function buildProfileReport(input: ProfileReportInput): ProfileReport {
  const totals: ProbeResults = {};
  const targets: TargetReport[] = input.targets.map((t) => ({ target: t.label, cgroupId: String(t.cgroupId), results: {} }));
  const distinctCgroups = [...new Set(input.targets.map((t) => t.cgroupId))];
  for (const probe of input.probes) {
    const perCgroup = distinctCgroups.map((id) => resultFor(input.results, probe, id));
    setResult(totals, probe, mergeProbeResults(probe, perCgroup), input.top);
    input.targets.forEach((t, i) => {
      // merging one result recomputes its latency summaries, whoever produced it
      const result = mergeProbeResults(probe, [resultFor(input.results, probe, t.cgroupId)]);
      setResult(targets[i]!.results, probe, result, input.top);
    });
  }
  const report: ProfileReport = { profileId: input.profileId, probes: [...input.probes], failed: [...input.failed], totals, targets };
  if (input.cost !== undefined) report.cost = input.cost;
  return report;
}
