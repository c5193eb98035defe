// A profile's accumulated results as a report: totals over its targets and a
// per-target breakdown, top lists cut to N, latencies as p50/p90/p99 (with the
// histogram they come from). Plain JSON: cgroup ids are decimal strings.
import type { ProfileCost } from '../../api/cost.js';
import { mergeResultSets, zeroResults } from '../../api/merge.js';
import type { ProbeResults } from '../../api/results.js';
import type { ProbeName } from '../../probes/registry.js';
import type { ProbeFailure } from '../../engine/probe-failure.js';
import { cgroupResults, type ProfileResults } from '../../engine/probe-manager.js';

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
  /** What tracing cost over the whole session, when measured (engine/cost). */
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

export function buildProfileReport(input: ProfileReportInput): ProfileReport {
  // Zero results first: every probe shows, and a result merged alone has its latency summaries recomputed.
  const zeros = zeroResults(input.probes);
  const resultsOf = (cgroupIds: readonly bigint[]) =>
    mergeResultSets([zeros, ...cgroupIds.map((id) => cgroupResults(input.results, id))], input.top, input.probes);
  const distinctCgroups = [...new Set(input.targets.map((t) => t.cgroupId))];
  const report: ProfileReport = {
    profileId: input.profileId,
    probes: [...input.probes],
    failed: [...input.failed],
    totals: resultsOf(distinctCgroups),
    targets: input.targets.map((t) => ({ target: t.label, cgroupId: String(t.cgroupId), results: resultsOf([t.cgroupId]) })),
  };
  if (input.cost !== undefined) report.cost = input.cost;
  return report;
}
