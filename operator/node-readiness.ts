// Whether a node traces a profile, judged from what its agent wrote in the
// NodeTracePlan status: the profile Running with a recent heartbeat and every
// probe either loaded or settled (dropped for the budget, or failed with its
// reason reported: the node traces with the rest). Anything the agent reports going wrong becomes an error
// for the profile's status (and its Degraded condition).
import { parseDuration } from '../api/duration.js';
import type { NodeProfileStatus, NodeTracePlanSpec, NodeTracePlanStatus } from '../api/nodetraceplan.js';
import { sameJsonExcept } from './same-json.js';
import type { ProbeName } from '../probes/registry.js';

/** What one node's plan status says about one profile. */
export interface NodeReport {
  heartbeat?: string;
  /** The plan's spec.reportIntervalSeconds: the agent writes no more often than this. */
  reportIntervalSeconds?: number;
  /** The profile's entry in the node's status; absent until the agent reports it. */
  entry?: NodeProfileStatus;
}

export interface NodeReadiness {
  node: string;
  ready: boolean;
  failed: boolean;
  /** Why the node is failing or degraded, for status.nodes.errors. */
  error?: string;
  /** The agent dropped probes of the profile to keep it within spec.budget. */
  budgetExceeded?: true;
  /** Probes the node could not load for the profile while it traces with the others. */
  failedProbes?: ProbeName[];
  /** When a ready node turns stale unless its agent reports again. */
  staleAtMs?: number;
}

/**
 * A node is silent after missing three reports (and never sooner than 30 s,
 * to ride out API latency); it reports at the profile's interval or its
 * plan's report interval, whichever is longer.
 */
export function staleAfterMs(interval: string, reportIntervalSeconds = 0): number {
  return Math.max(3 * Math.max(parseDuration(interval) ?? 10_000, reportIntervalSeconds * 1000), 30_000);
}

const MAX_ERROR_LENGTH = 512;
const clip = (text: string): string => (text.length <= MAX_ERROR_LENGTH ? text : `${text.slice(0, MAX_ERROR_LENGTH - 1)}…`);

function errorsOf(entry: NodeProfileStatus): string | undefined {
  const messages = (entry.errors ?? []).map((e) => (e.probe === undefined ? e.message : `${e.probe}: ${e.message}`));
  const unresolved = entry.targets.unresolved ?? [];
  const first = unresolved[0];
  if (first !== undefined) {
    const which = first.pod !== undefined && first.container !== undefined ? `${first.container} of ${first.pod} (${first.containerId})` : first.containerId;
    messages.push(`${unresolved.length} container(s) not found, e.g. ${which}: ${first.reason}`);
  }
  return messages.length === 0 ? undefined : clip(messages.join('; '));
}

export function nodeReadiness(
  node: string,
  report: NodeReport | undefined,
  probes: readonly ProbeName[],
  interval: string,
  nowMs: number,
): NodeReadiness {
  const heartbeatMs = report?.heartbeat === undefined ? undefined : Date.parse(report.heartbeat);
  const staleAtMs = heartbeatMs === undefined ? undefined : heartbeatMs + staleAfterMs(interval, report?.reportIntervalSeconds);
  if (staleAtMs !== undefined && nowMs >= staleAtMs) {
    return { node, ready: false, failed: false, error: `no report from the agent since ${report?.heartbeat}` };
  }
  const entry = report?.entry;
  if (entry === undefined) return { node, ready: false, failed: false };
  const error = errorsOf(entry);
  if (entry.state === 'Failed') return { node, ready: false, failed: true, error: error ?? 'the agent reports Failed' };
  // A probe dropped for the budget is a deliberate degradation (Degraded), not one still to come.
  const droppedForBudget = (entry.errors ?? []).filter((e) => e.reason === 'BudgetExceeded');
  const loaded = new Set(entry.probesLoaded);
  const settled = new Set([...loaded, ...droppedForBudget.flatMap((e) => e.probe ?? [])]);
  const failedProbes = [
    ...new Set((entry.errors ?? []).flatMap((e) => (e.probe !== undefined && !settled.has(e.probe) ? [e.probe] : []))),
  ].sort();
  const ready = entry.state === 'Running' && probes.every((probe) => settled.has(probe) || failedProbes.includes(probe));
  const readiness: NodeReadiness = { node, ready, failed: false };
  if (error !== undefined) readiness.error = error;
  if (droppedForBudget.length > 0) readiness.budgetExceeded = true;
  if (failedProbes.length > 0) readiness.failedProbes = failedProbes;
  if (ready && staleAtMs !== undefined) readiness.staleAtMs = staleAtMs;
  return readiness;
}

/** A node's plan as far as its reports go: the spec it was given and the status its agent wrote. */
interface PlanReport {
  spec?: NodeTracePlanSpec;
  status?: NodeTracePlanStatus;
}

/**
 * A node's new report says nothing new about a profile but its results: the
 * entry is the same apart from them, and the node was not about to be judged
 * silent (a report that revives a silent node is news).
 */
export function onlyResultsMoved(previous: PlanReport | undefined, current: PlanReport, uid: string, nowMs: number): boolean {
  const before = previous?.status?.profiles?.find((entry) => entry.uid === uid);
  const after = current.status?.profiles?.find((entry) => entry.uid === uid);
  const heartbeat = previous?.status?.heartbeat;
  const planned = current.spec?.profiles.find((entry) => entry.uid === uid);
  if (before === undefined || after === undefined || heartbeat === undefined || planned === undefined) return false;
  if (!sameJsonExcept(before, after, ['results', 'pods', 'cost'])) return false;
  return nowMs - Date.parse(heartbeat) < staleAfterMs(planned.interval, current.spec?.reportIntervalSeconds);
}
