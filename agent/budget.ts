// Keeping a profile within its spec.budget on this node. The decision is
// pure: each interval the profile's measured cost goes in with its state, and
// out comes the new state, which lists the probes dropped for the budget.
//
// Degrade order, one step per SUSTAINED_INTERVALS intervals in a row over
// budget: first widen sampling — divide the rate the profile asks of a
// sampling probe (one whose descriptor has `sampling`) by
// SAMPLING_WIDEN_FACTOR, down to MIN_SAMPLING_HZ (the node samples at the
// highest rate any profile asks, so this lowers the node's rate only when
// this profile set it, and never below what another profile asks);
// then drop the profile's costliest probe on this node (by the limit that is
// exceeded: CPU, else events), then the next one, and so on.
//
// Dropped probes stay dropped until the profile's spec changes (a new
// generation, e.g. a raised budget): trying them again would only oscillate.
import { parseCpuCores, type Budget } from '../api/cost.js';
import type { ProbeName } from '../probes/registry.js';
import type { CostRates } from '../engine/cost/attribution.js';

/** Intervals in a row over budget before the agent acts: one busy interval is not a trend. */
export const SUSTAINED_INTERVALS = 3;
/** Each widening step divides the sampling rate by this. */
export const SAMPLING_WIDEN_FACTOR = 4;
/** Sampling is not widened below this rate; the next step drops probes. */
export const MIN_SAMPLING_HZ = 1;

export interface BudgetLimits {
  maxCpuCores?: number;
  maxEventsPerSecond?: number;
}

export interface DroppedProbe {
  probe: ProbeName;
  /** Why, for the node status (reason BudgetExceeded). */
  message: string;
}

export interface BudgetState {
  /** The profile generation this state belongs to. */
  generation: number;
  /** Intervals in a row over budget since the last step. */
  overIntervals: number;
  /** Probes dropped for the budget, in the order they were dropped. */
  dropped: DroppedProbe[];
  /** A sampling probe's rate after widening for the budget; absent while it samples as asked. */
  widened?: { probe: ProbeName; hz: number; message: string };
}

export interface BudgetInput {
  limits: BudgetLimits;
  /** The profile's cost on this node over the last interval, and each probe's part of it. */
  cost: CostRates & { byProbe: ReadonlyMap<ProbeName, CostRates> };
  /** false when BPF run-time statistics are off: the CPU limit cannot be judged then. */
  cpuMeasured: boolean;
  /** Probes running for the profile now, the candidates to drop. */
  active: readonly ProbeName[];
  /** The rate the profile asks of a sampling probe, when it uses one: what widening divides. */
  sampling?: { probe: ProbeName; hz: number };
}

export function budgetLimits(budget: Budget | undefined): BudgetLimits | undefined {
  if (budget === undefined) return undefined;
  const limits: BudgetLimits = {};
  const cores = budget.maxCpuPerNode === undefined ? undefined : parseCpuCores(budget.maxCpuPerNode);
  if (cores !== undefined) limits.maxCpuCores = cores;
  if (budget.maxEventsPerSecond !== undefined) limits.maxEventsPerSecond = budget.maxEventsPerSecond;
  return limits;
}

/** The state to carry on with: the previous one while the generation is the same, else a fresh one. */
export function budgetStateFor(previous: BudgetState | undefined, generation: number): BudgetState {
  return previous?.generation === generation ? previous : { generation, overIntervals: 0, dropped: [] };
}

const percent = (cores: number) => `${(cores * 100).toPrecision(3)}% of a CPU`;
const rate = (perSecond: number) => `${Math.round(perSecond)} events/s`;

/** What is over, worded for the status; undefined when within budget. */
function excess(input: BudgetInput): { by: 'cpu' | 'events'; text: string } | undefined {
  const { limits, cost } = input;
  if (input.cpuMeasured && limits.maxCpuCores !== undefined && cost.cpuCores > limits.maxCpuCores) {
    return { by: 'cpu', text: `CPU ${percent(cost.cpuCores)} > ${percent(limits.maxCpuCores)} allowed` };
  }
  if (limits.maxEventsPerSecond !== undefined && cost.eventsPerSecond > limits.maxEventsPerSecond) {
    return { by: 'events', text: `${rate(cost.eventsPerSecond)} > ${limits.maxEventsPerSecond} allowed` };
  }
  return undefined;
}

/** The active probe costing most by `by`, the other measure breaking ties, then the name. */
export function costliestProbe(
  active: readonly ProbeName[],
  byProbe: ReadonlyMap<ProbeName, CostRates>,
  by: 'cpu' | 'events',
): ProbeName | undefined {
  const key = (probe: ProbeName): [number, number] => {
    const c = byProbe.get(probe) ?? { cpuCores: 0, eventsPerSecond: 0 };
    return by === 'cpu' ? [c.cpuCores, c.eventsPerSecond] : [c.eventsPerSecond, c.cpuCores];
  };
  return [...active].sort((a, b) => {
    const [a1, a2] = key(a);
    const [b1, b2] = key(b);
    return b1 - a1 || b2 - a2 || a.localeCompare(b);
  })[0];
}

/** One interval of the budget: the state after it. */
export function stepBudget(state: BudgetState, input: BudgetInput): BudgetState {
  const over = excess(input);
  if (over === undefined) return { ...state, overIntervals: 0 };
  const overIntervals = state.overIntervals + 1;
  if (overIntervals < SUSTAINED_INTERVALS) return { ...state, overIntervals };
  const sampled = input.sampling;
  const hz = state.widened?.hz ?? sampled?.hz;
  if (sampled !== undefined && hz !== undefined && hz > MIN_SAMPLING_HZ && input.active.includes(sampled.probe)) {
    const widened = Math.max(MIN_SAMPLING_HZ, Math.floor(hz / SAMPLING_WIDEN_FACTOR));
    const message =
      `over budget on this node for ${overIntervals} intervals (${over.text}): ` +
      `widened the ${sampled.probe} probe's sampling from ${hz} Hz to ${widened} Hz; raise spec.budget to get it back`;
    return { ...state, overIntervals: 0, widened: { probe: sampled.probe, hz: widened, message } };
  }
  const candidates = input.active.filter((p) => !state.dropped.some((d) => d.probe === p));
  const probe = costliestProbe(candidates, input.cost.byProbe, over.by);
  if (probe === undefined) return { ...state, overIntervals }; // nothing left to drop
  const part = input.cost.byProbe.get(probe);
  const partText = part === undefined ? '' : over.by === 'cpu' ? ` (${percent(part.cpuCores)})` : ` (${rate(part.eventsPerSecond)})`;
  const message =
    `over budget on this node for ${overIntervals} intervals (${over.text}): ` +
    `dropped probe ${probe}, the costliest${partText}; raise spec.budget or narrow the profile to get it back`;
  return { ...state, overIntervals: 0, dropped: [...state.dropped, { probe, message }] };
}
