// How often agents and the operator may write status, from the cluster's
// size, so that all of Loupe's writes to the API server stay within a fixed
// budget however many nodes and profiles there are. The kubelet solved the
// same problem by writing its full node status rarely (5 min) and a small
// Lease often; Loupe's agents have no small object to fall back on (their
// results are the news), so their interval grows with the node count instead.
//
// Agents get most of the budget: one write per node per report interval,
// spread over the interval (agent/status-reporter.ts). The operator gets the
// rest for profile statuses whose results moved; phase, readiness and
// condition changes are news and never wait for it.
import { MIN_REPORT_INTERVAL_SECONDS } from '../api/nodetraceplan.js';
import { nextSlotMs, slotPhase } from '../api/write-slot.js';

/** Every write from Loupe (agents + operator) per second, cluster-wide, at steady state. */
export const WRITE_BUDGET_PER_SECOND = 50;
/**
 * The agents' share: at 5,000 nodes, one status write per node every 110 s
 * (108.7, in 5 s steps), so that a node's status is under 2 minutes old even
 * when its write lands seconds after its slot on a loaded API server.
 */
export const AGENT_WRITES_PER_SECOND = 46;
/** Small clusters leave it to each profile's interval. */
export const MIN_REPORT_INTERVAL_MS = MIN_REPORT_INTERVAL_SECONDS * 1000;
/** Report intervals are whole multiples of this, so a node joining or leaving rarely changes them. */
const REPORT_INTERVAL_STEP_MS = 5_000;
/** An interval shrinks only once the cluster needs 20% less, so a node count on a step's edge cannot flap every plan. */
const SHRINK_BELOW = 0.8;
/** Left for the leader's Lease renewals (one per 1.5 s) and Events. */
const RESERVED_WRITES_PER_SECOND = 1.5;
/** A profile status with only new results is written at most this often when the budget allows more. */
export const MIN_RESULTS_WRITE_GAP_MS = 1_000;

/** The shortest interval at which `nodes` agents together stay within AGENT_WRITES_PER_SECOND. */
function neededReportIntervalMs(nodes: number): number {
  const ms = (Math.max(0, nodes) / AGENT_WRITES_PER_SECOND) * 1000;
  return Math.max(MIN_REPORT_INTERVAL_MS, Math.ceil(ms / REPORT_INTERVAL_STEP_MS) * REPORT_INTERVAL_STEP_MS);
}

/**
 * The agents' report interval for a cluster of `nodes`, given the one in
 * force (undefined at start): it grows as soon as the cluster needs it and
 * shrinks with hysteresis, since every change rewrites every plan.
 */
export function agentReportIntervalMs(nodes: number, current?: number): number {
  const needed = neededReportIntervalMs(nodes);
  if (current === undefined || needed >= current) return needed;
  return needed <= current * SHRINK_BELOW ? needed : current;
}

/**
 * The least time between two results-only writes of one profile's status:
 * the profiles share what the agents leave of the budget.
 */
export function resultsWriteGapMs(nodes: number, reportIntervalMs: number, profiles: number): number {
  const agentWrites = Math.max(0, nodes) / (reportIntervalMs / 1000);
  const left = Math.max(1, WRITE_BUDGET_PER_SECOND - RESERVED_WRITES_PER_SECOND - agentWrites);
  return Math.max(MIN_RESULTS_WRITE_GAP_MS, Math.ceil((Math.max(0, profiles) / left) * 1000));
}

/**
 * When a profile's new results may next be written, given its last status
 * write (undefined: never, so at once): at its slot of the gap after that
 * write. Slots, not "last write + gap": profiles that turned Running in the
 * same second would otherwise write their results together ever after, all
 * of them once a gap.
 */
export function resultsWriteDueMs(profileUid: string, lastWriteMs: number | undefined, gapMs: number): number {
  return lastWriteMs === undefined ? -Infinity : nextSlotMs(lastWriteMs + 1, gapMs, slotPhase(profileUid));
}
