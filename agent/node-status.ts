// The agent's report in NodeTracePlan status: per profile its state, the
// probes loaded for it, which targets were found (and why others were not),
// what went wrong, and its latest summary; the whole fitted to the node
// status budget. Pure, so what the agent writes can be tested without a cluster.
import type { NodeCost, ProfileCost } from '../api/cost.js';
import type {
  NodeProfileErrorReason,
  NodeProfilePlan,
  NodeProfileState,
  NodeProfileStatus,
  NodeTracePlanStatus,
} from '../api/nodetraceplan.js';
import type { ProbeName } from '../probes/registry.js';
import { fitNodeTracePlanStatusToBudget, NODE_STATUS_BUDGET_BYTES } from '../api/status-budget.js';
import type { DroppedProbe } from './budget.js';
import type { TargetResolution } from './plan-targets.js';
import type { ProbeFailure } from '../engine/probe-failure.js';
import type { ProfileState } from '../engine/probe-manager.js';
import type { ProfileSummary } from './profile-summary.js';

/** Schema bounds of a profile's status. */
const MAX_ERRORS = 8;
const MAX_ERROR_CHARS = 512;
const MAX_UNRESOLVED = 16;

export const SHUTDOWN_MESSAGE = 'agent shutting down';

export interface ProfileError {
  probe?: ProbeName;
  reason?: NodeProfileErrorReason;
  message: string;
}

export interface ProfileStatusInput {
  plan: NodeProfilePlan;
  /** The manager's view; undefined when it refused the profile. */
  state?: ProfileState;
  /** Why the manager refused the profile (too many profiles or targets on this node). */
  refusal?: string;
  targets: TargetResolution;
  /** The latest summary; undefined before the first one. */
  summary?: ProfileSummary;
  /** Problems outside the probes (OTLP export, its Secrets). */
  errors: readonly ProfileError[];
  /** The agent is stopping: everything is detached. */
  shuttingDown: boolean;
  /** Its cost over the last interval; undefined before the first measurement or without cost accounting. */
  cost?: ProfileCost;
  /** Probes the agent dropped to keep the profile within its budget. */
  budgetSteps?: readonly DroppedProbe[];
}

function clip(text: string, max = MAX_ERROR_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A load failure in one line: the error, then the end of the verifier log, where its reason is. */
export function probeFailureMessage(failure: ProbeFailure): string {
  if (failure.verifierLog === undefined) return clip(failure.message);
  const head = `${failure.message}; verifier: `;
  const room = Math.max(0, MAX_ERROR_CHARS - head.length - 1);
  const log = failure.verifierLog.trim().replaceAll(/\s*\n\s*/g, ' | ');
  return clip(head + (log.length <= room ? log : `…${log.slice(-room)}`));
}

export function profileState(input: ProfileStatusInput): NodeProfileState {
  if (input.shuttingDown || !input.plan.active) return 'Stopped';
  if (input.refusal !== undefined || input.state === undefined) return 'Failed';
  if (input.targets.resolved.length === 0) return 'Pending'; // nothing of it runs here (yet)
  if (input.state.active.length === 0) return input.state.failed.length > 0 ? 'Failed' : 'Pending';
  return 'Running';
}

function profileErrors(input: ProfileStatusInput): ProfileError[] {
  const errors: ProfileError[] = [];
  if (input.shuttingDown) errors.push({ message: SHUTDOWN_MESSAGE });
  if (input.refusal !== undefined) errors.push({ message: clip(input.refusal) });
  for (const { probe, message } of input.budgetSteps ?? []) errors.push({ probe, reason: 'BudgetExceeded', message: clip(message) });
  for (const failure of input.state?.failed ?? []) errors.push({ probe: failure.probe, message: probeFailureMessage(failure) });
  for (const error of input.errors) errors.push({ ...error, message: clip(error.message) });
  if (errors.length <= MAX_ERRORS) return errors;
  const kept = errors.slice(0, MAX_ERRORS - 1);
  return [...kept, { message: `and ${errors.length - kept.length} more errors (see the agent's log)` }];
}

export function buildProfileStatus(input: ProfileStatusInput): NodeProfileStatus {
  const tracing = !input.shuttingDown && input.plan.active;
  const status: NodeProfileStatus = {
    uid: input.plan.uid,
    state: profileState(input),
    probesLoaded: tracing ? [...(input.state?.active ?? [])].sort() : [],
    targets: { resolved: input.targets.resolved.length },
    observedGeneration: input.plan.generation,
  };
  const unresolved = input.targets.unresolved.slice(0, MAX_UNRESOLVED);
  if (unresolved.length > 0) {
    status.targets.unresolved = unresolved.map((u) => ({
      containerId: u.target.containerId,
      pod: `${u.target.namespace}/${u.target.pod}`,
      container: u.target.container,
      reason: u.reason,
      ...(u.lookedIn !== undefined && { lookedIn: u.lookedIn }),
    }));
  }
  const errors = profileErrors(input);
  if (errors.length > 0) status.errors = errors;
  if (tracing && input.cost !== undefined) status.cost = input.cost;
  if (input.summary !== undefined) {
    status.results = input.summary.results;
    if (input.summary.pods.length > 0) status.pods = input.summary.pods;
  }
  return status;
}

export interface NodeStatusInput {
  heartbeat: Date;
  agentVersion: string;
  /** The plan generation the agent has applied. */
  observedGeneration?: number;
  profiles: readonly NodeProfileStatus[];
  /** The node's cost over the last interval, when measured. */
  cost?: NodeCost;
  budgetBytes?: number;
}

export function buildNodeStatus(input: NodeStatusInput): NodeTracePlanStatus {
  return fitNodeTracePlanStatusToBudget(
    {
      heartbeat: input.heartbeat.toISOString(),
      agentVersion: input.agentVersion,
      ...(input.observedGeneration !== undefined && { observedGeneration: input.observedGeneration }),
      ...(input.cost !== undefined && { cost: input.cost }),
      profiles: [...input.profiles],
    },
    input.budgetBytes ?? NODE_STATUS_BUDGET_BYTES,
  );
}

/** Whether two reports say the same thing, heartbeat aside: the agent writes only when they do not. */
export function sameReport(a: NodeTracePlanStatus | undefined, b: NodeTracePlanStatus): boolean {
  if (a === undefined) return false;
  return JSON.stringify({ ...a, heartbeat: undefined }) === JSON.stringify({ ...b, heartbeat: undefined });
}
