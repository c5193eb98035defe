// The NodeTracePlan a node should have: one entry per profile with targets on
// that node, or with results the node reported. Active profiles follow their
// pods; inactive ones (suspended or completed) keep the targets they had. A
// profile stays (with no targets) where it has results, because the operator
// builds the profile's status from node reports only: dropping the entry would
// drop those counts. Pure: built from cached profiles, pods and plan.
import {
  MAX_NODE_PROFILES,
  MAX_NODE_TARGETS,
  type NodeProfilePlan,
  type NodeTraceTarget,
  type NodeTracePlanSpec,
  type NodeTracePlanStatus,
} from '../api/nodetraceplan.js';
import type { TraceProfile } from '../api/traceprofile.js';
import { byContainerId, profileSelectsPod, runningTargetsOfPod, type Pod } from './pod-targets.js';
import { isProfileActive } from './profile-session.js';
import { sameJson } from './same-json.js';

export interface NodePlanInput {
  nodeName: string;
  /** Parsed profiles that may concern this node (those of its pods' namespaces and those already planned here). */
  profiles: readonly TraceProfile[];
  podsOnNode: readonly Pod[];
  /** The node's plan as it is now, if it exists. */
  current?: NodeTracePlanSpec;
  /** Uids of the profiles the node has reported results for (profilesWithResults). */
  reported?: ReadonlySet<string>;
  /** How often the node's agent may write its status (operator/write-budget.ts). */
  reportIntervalSeconds?: number;
  nowMs: number;
}

/** Profiles whose results a node's status holds. */
export function profilesWithResults(status: NodeTracePlanStatus | undefined): Set<string> {
  return new Set((status?.profiles ?? []).filter((entry) => entry.results !== undefined).map((entry) => entry.uid));
}

export function nodeProfilePlan(profile: TraceProfile, active: boolean, targets: NodeTraceTarget[]): NodeProfilePlan {
  const { uid = '', namespace = '', name = '', generation = 0 } = profile.metadata;
  const entry: NodeProfilePlan = {
    uid,
    namespace,
    name,
    generation,
    probes: profile.spec.probes,
    interval: profile.spec.interval,
    topN: profile.spec.output.status.topN,
    active,
    targets: [...targets].sort(byContainerId).slice(0, MAX_NODE_TARGETS),
  };
  if (profile.spec.output.otlp !== undefined) entry.otlp = profile.spec.output.otlp;
  if (profile.spec.budget !== undefined) entry.budget = profile.spec.budget;
  return entry;
}

const byAge = (a: TraceProfile, b: TraceProfile): number =>
  (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.uid ?? '').localeCompare(b.metadata.uid ?? '');

/** The plan spec the node should have, or undefined when no profile targets it or has results there (the plan should not exist). */
export function desiredNodePlan(input: NodePlanInput): NodeTracePlanSpec | undefined {
  const planned = new Map((input.current?.profiles ?? []).map((entry) => [entry.uid, entry]));
  const entries: { profile: TraceProfile; entry: NodeProfilePlan }[] = [];
  for (const profile of [...input.profiles].sort(byAge)) {
    const uid = profile.metadata.uid;
    if (uid === undefined || profile.metadata.deletionTimestamp !== undefined) continue;
    const active = isProfileActive(profile, input.nowMs);
    const targets = active
      ? input.podsOnNode.filter((pod) => profileSelectsPod(profile, pod)).flatMap((pod) => runningTargetsOfPod(pod, profile.spec.containers))
      : (planned.get(uid)?.targets ?? []);
    const keepsResults = planned.has(uid) && input.reported?.has(uid) === true;
    if (targets.length > 0 || keepsResults) entries.push({ profile, entry: nodeProfilePlan(profile, active, targets) });
  }
  if (entries.length === 0) return undefined;
  // Over capacity, the oldest profiles keep the node; the rest stay unplanned and show as not ready.
  const profiles = entries.slice(0, MAX_NODE_PROFILES).map(({ entry }) => entry);
  const spec: NodeTracePlanSpec = { nodeName: input.nodeName, profiles };
  if (input.reportIntervalSeconds !== undefined) spec.reportIntervalSeconds = input.reportIntervalSeconds;
  return canonicalPlanSpec(spec);
}

/** Entries sorted by uid, targets by container id: the order the operator writes and compares in. */
export function canonicalPlanSpec(spec: NodeTracePlanSpec): NodeTracePlanSpec {
  const profiles = spec.profiles
    .map((entry) => ({ ...entry, targets: [...entry.targets].sort(byContainerId) }))
    .sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  return { ...spec, profiles };
}

/** Whether writing `desired` would change a plan whose (parsed) spec is `current`. */
export function planNeedsWrite(current: NodeTracePlanSpec | undefined, desired: NodeTracePlanSpec): boolean {
  return current === undefined || !sameJson(canonicalPlanSpec(current), canonicalPlanSpec(desired));
}
