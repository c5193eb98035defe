// How often the agent reports: each profile's `interval` (a Go duration the
// TraceProfile validated) sets how fresh its results are; the agent wakes at
// the shortest of them, and writes status no more often than that or its
// plan's report interval, whichever is longer.
import { parseDuration } from '../api/duration.js';
import { DEFAULT_INTERVAL } from '../api/traceprofile.js';

/** Below this the agent would spend its time writing status; the TraceProfile allows 5s at least. */
export const MIN_INTERVAL_MS = 1000;
export const DEFAULT_INTERVAL_MS = parseDuration(DEFAULT_INTERVAL) ?? 10_000;
/**
 * Heartbeats no rarer than this even when every interval is longer: the
 * operator calls a node silent after max(3 × interval, 30 s) without one.
 */
export const HEARTBEAT_FLOOR_MS = 10_000;

/** A profile's reporting interval in ms; a plan that says something unparsable gets the default. */
export function profileIntervalMs(interval: string): number {
  const ms = parseDuration(interval);
  if (ms === undefined) return DEFAULT_INTERVAL_MS;
  return Math.max(MIN_INTERVAL_MS, ms);
}

/** How often the agent wakes: the shortest interval among its profiles. */
export function agentTickMs(intervals: readonly string[]): number {
  return intervals.length === 0 ? DEFAULT_INTERVAL_MS : Math.min(...intervals.map(profileIntervalMs));
}

/**
 * How often the agent writes its status: at its shortest profile interval,
 * never more often than the plan's reportIntervalSeconds (the operator's
 * share of the API write budget for this node). A status with no news is
 * still written every max(period, HEARTBEAT_FLOOR_MS) as a heartbeat.
 */
export function statusPeriodMs(intervals: readonly string[], reportIntervalSeconds: number | undefined): number {
  return Math.max(agentTickMs(intervals), (reportIntervalSeconds ?? 0) * 1000);
}
