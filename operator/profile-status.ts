// TraceProfile.status from everything the operator knows about a profile:
// what its selector matches, what its nodes report, and its session. Pure and
// deterministic for the same inputs, so the reconciler writes only when
// something actually changed; bounded by fitStatusToBudget.
import { parseDuration } from '../api/duration.js';
import type { ProbeResults } from '../api/results.js';
import { fitStatusToBudget } from '../api/status-budget.js';
import { advanceTimeline, emptyTimeline, extendTimeline, type Timeline } from '../api/timeline.js';
import { MAX_STATUS_NODE_ERRORS, type TraceProfile, type TraceProfileStatus } from '../api/traceprofile.js';
import { headline } from './headline.js';
import { nodeReadiness, type NodeReport } from './node-readiness.js';
import type { ProfileTargets } from './pod-targets.js';
import { invalidSpecOutcome, profilePhase, withTransitionTimes } from './profile-conditions.js';
import { costSummary, profileCostTotal } from './profile-cost.js';
import { mergeNodeResults, type ProfileResults } from './profile-results.js';
import { isExpired, kubeTime, sessionOf, type ProfileSession } from './profile-session.js';

export interface ProfileStatusInput {
  /** The parsed profile, with the status currently stored. */
  profile: TraceProfile;
  /** What the selector matches right now. */
  targets: ProfileTargets;
  /** Nodes the profile is meant to run on: where it has targets while active, where it is still planned once inactive. */
  nodes: readonly string[];
  /** What each node's plan status says about the profile: every node that carries or reports it. */
  reports: ReadonlyMap<string, NodeReport>;
  /** Names of the traced containers of a pod, by pod uid. */
  containersOf: (podUid: string) => string[];
  nowMs: number;
}

export interface ProfileStatusOutcome {
  status: TraceProfileStatus;
  /** When to look again even if nothing changes: the session's end, or a ready node going silent. */
  recheckAtMs?: number;
}

function resultsOf(input: ProfileStatusInput, active: boolean): ProfileResults {
  const { profile, reports } = input;
  const reported = [...reports].flatMap(([node, report]) => (report.entry === undefined ? [] : [{ node, entry: report.entry }]));
  const merged = mergeNodeResults(reported, profile.spec.output.status.topN, input.containersOf);
  // Detached nodes may stop reporting (restarted, deleted): a stopped session keeps what it had.
  if (merged.results === undefined && !active) {
    const { results, pods, truncated } = profile.status ?? {};
    return { results, pods, truncated };
  }
  return merged;
}

/**
 * The stored timeline with what the results gained since the stored results.
 * While active, in the column of now; idle intervals add no column (nor a
 * status write) until something is gained. Nodes still report for a moment
 * after the session ends (until they detach): that goes into its last
 * column, so the columns still add up to the totals, and a Completed
 * profile's columns reach its end. A suspended profile's late reports go
 * into its newest column.
 */
function timelineOf(profile: TraceProfile, session: ProfileSession, results: ProbeResults | undefined, active: boolean, nowMs: number): Timeline | undefined {
  const stored = profile.status?.timeline;
  if (results === undefined) return stored;
  const timeline = stored ?? emptyTimeline(Date.parse(session.startedAt), parseDuration(profile.spec.interval) ?? 10_000);
  if (active) return advanceTimeline(timeline, profile.status?.results, results, nowMs);
  if (isExpired(session, nowMs)) {
    const lastMs = Math.min(nowMs, Date.parse(session.expiresAt ?? '') - 1);
    return extendTimeline(advanceTimeline(timeline, profile.status?.results, results, lastMs), lastMs);
  }
  const newestMs = Date.parse(timeline.startedAt) + Math.max(0, timeline.columns - 1) * timeline.columnSeconds * 1000;
  return advanceTimeline(timeline, profile.status?.results, results, newestMs);
}

export function computeProfileStatus(input: ProfileStatusInput): ProfileStatusOutcome {
  const { profile, targets, nowMs } = input;
  const session = sessionOf(profile, nowMs);
  const expired = isExpired(session, nowMs);
  const active = !expired && !profile.spec.suspend;
  const probes = profile.spec.probes.map((p) => p.name);
  const readiness = input.nodes.map((node) => nodeReadiness(node, input.reports.get(node), probes, profile.spec.interval, nowMs));
  const outcome = profilePhase({
    namespace: profile.metadata.namespace ?? '',
    suspended: profile.spec.suspend,
    expired,
    duration: profile.spec.duration,
    pods: targets.pods,
    containers: targets.containers,
    nodes: readiness,
  });
  const generation = profile.metadata.generation ?? 0;
  const ready = readiness.filter((n) => n.ready).length;
  const errors = readiness.flatMap((n) => (n.error === undefined ? [] : [{ node: n.node, message: n.error }]));
  const { results, pods, truncated } = resultsOf(input, active);

  const status: TraceProfileStatus = {
    phase: outcome.phase,
    conditions: withTransitionTimes(outcome.conditions, profile.status?.conditions, kubeTime(nowMs), generation),
    observedGeneration: generation,
    targets: { pods: targets.pods, containers: targets.containers, nodes: targets.byNode.size },
    nodes: { ready, total: readiness.length, ...(errors.length > 0 ? { errors: errors.slice(0, MAX_STATUS_NODE_ERRORS) } : {}) },
    nodesReady: `${ready}/${readiness.length}`,
    probes: probes.join(','),
    startedAt: session.startedAt,
  };
  const line = headline(results);
  if (line !== undefined) status.headline = line;
  if (session.expiresAt !== undefined) status.expiresAt = session.expiresAt;
  if (results !== undefined) status.results = results;
  if (pods !== undefined) status.pods = pods;
  if (truncated !== undefined) status.truncated = truncated;
  const timeline = timelineOf(profile, session, results, active, nowMs);
  if (timeline !== undefined) status.timeline = timeline;
  const cost = active ? profileCostTotal(input.reports) : undefined;
  if (cost !== undefined) {
    status.cost = cost;
    status.costSummary = costSummary(cost);
  }

  const recheck = [
    ...(active && session.expiresAt !== undefined ? [Date.parse(session.expiresAt)] : []),
    ...(active ? readiness.flatMap((n) => (n.staleAtMs === undefined ? [] : [n.staleAtMs])) : []),
  ];
  const fitted = fitStatusToBudget(status);
  return recheck.length === 0 ? { status: fitted } : { status: fitted, recheckAtMs: Math.min(...recheck) };
}

/** Status of a profile whose spec does not parse: Failed, with the reason in every condition. */
export function invalidProfileStatus(previous: TraceProfileStatus | undefined, generation: number, message: string, nowMs: number): TraceProfileStatus {
  const outcome = invalidSpecOutcome(message);
  return {
    ...previous,
    phase: outcome.phase,
    conditions: withTransitionTimes(outcome.conditions, previous?.conditions, kubeTime(nowMs), generation),
    observedGeneration: generation,
  };
}
