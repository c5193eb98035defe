// A profile's phase and its Ready / Progressing / Degraded conditions, from
// what its selector matches and what its nodes report. Conditions keep their
// lastTransitionTime until their status flips, as metav1.Condition requires,
// so an unchanged situation produces an unchanged status.
import type { Condition, ConditionType } from '../api/meta.js';
import type { TraceProfilePhase } from '../api/traceprofile.js';
import type { NodeReadiness } from './node-readiness.js';

export type ConditionStatus = Condition['status'];

export interface DesiredCondition {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export interface PhaseInput {
  namespace: string;
  suspended: boolean;
  expired: boolean;
  duration?: string;
  pods: number;
  containers: number;
  /** Readiness of every node the profile is meant to run on. */
  nodes: readonly NodeReadiness[];
}

export interface PhaseOutcome {
  phase: TraceProfilePhase;
  conditions: DesiredCondition[];
}

const MAX_LISTED_NODES = 5;
const MAX_MESSAGE_LENGTH = 1024;

function listNodes(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LISTED_NODES).join(', ');
  return names.length > MAX_LISTED_NODES ? `${shown} and ${names.length - MAX_LISTED_NODES} more` : shown;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function degraded(nodes: readonly NodeReadiness[], relevant: boolean): DesiredCondition {
  const failing = nodes.filter((n) => n.error !== undefined);
  if (!relevant || failing.length === 0) return { type: 'Degraded', status: 'False', reason: 'NoErrors', message: '' };
  const message = failing.map((n) => `${n.node}: ${n.error}`).join('; ');
  return {
    type: 'Degraded',
    status: 'True',
    reason: failing.some((n) => n.budgetExceeded) ? 'BudgetExceeded' : failing.some((n) => n.failedProbes) ? 'ProbesFailed' : 'NodeErrors',
    message: message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…`,
  };
}

export function profilePhase(input: PhaseInput): PhaseOutcome {
  const { nodes } = input;
  const ready = nodes.filter((n) => n.ready);
  const waiting = nodes.filter((n) => !n.ready).map((n) => n.node);
  const tracing = `tracing ${plural(input.containers, 'container')} in ${plural(input.pods, 'pod')} on ${plural(ready.length, 'node')}`;
  const stopped = (phase: TraceProfilePhase, reason: string, ready: ConditionStatus, message: string): PhaseOutcome => ({
    phase,
    conditions: [
      { type: 'Ready', status: ready, reason, message },
      { type: 'Progressing', status: 'False', reason, message },
      degraded(nodes, false),
    ],
  });

  if (input.expired) {
    return stopped('Completed', 'Completed', 'True', `traced for ${input.duration ?? 'its duration'}; probes detached, results are final`);
  }
  if (input.suspended) return stopped('Suspended', 'Suspended', 'False', 'spec.suspend is true: probes detached, results so far kept');
  if (input.pods === 0) {
    return stopped('Pending', 'NoMatchingPods', 'False', `no running pod in namespace ${input.namespace} matches the selector`);
  }
  // Ready and Progressing as [status, reason, message]; Degraded from the nodes' errors.
  type Said = [ConditionStatus, string, string];
  const outcome = (phase: TraceProfilePhase, [readyStatus, readyReason, readyMessage]: Said, [progressing, reason, message]: Said): PhaseOutcome => ({
    phase,
    conditions: [
      { type: 'Ready', status: readyStatus, reason: readyReason, message: readyMessage },
      { type: 'Progressing', status: progressing, reason, message },
      degraded(nodes, true),
    ],
  });

  if (nodes.length > 0 && nodes.every((n) => n.failed)) {
    return outcome(
      'Failed',
      ['False', 'NodesFailed', `every node failed to trace: ${listNodes(waiting)}`],
      ['False', 'NodesFailed', 'every node failed; see Degraded'],
    );
  }
  const waitingFor = `${ready.length}/${nodes.length} nodes tracing; waiting for ${listNodes(waiting)}`;
  if (ready.length === 0) return outcome('Pending', ['False', 'WaitingForNodes', waitingFor], ['True', 'WaitingForNodes', waitingFor]);
  if (waiting.length > 0) return outcome('Running', ['False', 'NodesNotReady', waitingFor], ['True', 'WaitingForNodes', waitingFor]);
  // Tracing, but without some of the probes asked for: Running and counted,
  // not Ready, with the reasons in Degraded.
  const failedProbes = [...new Set(ready.flatMap((n) => n.failedProbes ?? []))].sort();
  if (failedProbes.length > 0) {
    const partial = `${tracing}, without probes ${failedProbes.join(', ')}, which failed to load; see Degraded`;
    return outcome('Running', ['False', 'ProbesFailed', partial], ['False', 'ProbesFailed', partial]);
  }
  return outcome('Running', ['True', 'Tracing', tracing], ['False', 'Tracing', tracing]);
}

/** The profile's status when its spec cannot be parsed (what admission should have rejected). */
export function invalidSpecOutcome(message: string): PhaseOutcome {
  const clipped = message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
  return {
    phase: 'Failed',
    conditions: [
      { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: clipped },
      { type: 'Progressing', status: 'False', reason: 'InvalidSpec', message: clipped },
      { type: 'Degraded', status: 'True', reason: 'InvalidSpec', message: clipped },
    ],
  };
}

/**
 * metav1.Condition list for `desired`: lastTransitionTime carried over from
 * `previous` when the status did not flip, `now` otherwise.
 */
export function withTransitionTimes(
  desired: readonly DesiredCondition[],
  previous: readonly Condition[] | undefined,
  now: string,
  observedGeneration: number,
): Condition[] {
  return desired.map((condition) => {
    const before = previous?.find((c) => c.type === condition.type);
    const lastTransitionTime = before !== undefined && before.status === condition.status ? before.lastTransitionTime : now;
    return { ...condition, lastTransitionTime, observedGeneration };
  });
}
