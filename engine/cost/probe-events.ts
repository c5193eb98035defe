// What one probe "event" is, for cost attribution and eventsPerSecond: the
// probe's activity (its descriptor's, api/activity.ts), the thing its programs do work for.
// Attribution only compares counts of the same probe, so each probe needs a
// count that grows with its programs' work, not a common unit.
import { probeActivity } from '../../api/activity.js';
import { PROBE_NAMES, type ProbeName, type ResultOf } from '../../probes/registry.js';
import type { ProfileResults } from '../probe-manager.js';

/** Events in a profile's accumulated results, per probe, over all its cgroups. */
export function eventsByProbe(results: ProfileResults): Map<ProbeName, number> {
  const events = new Map<ProbeName, number>();
  for (const probe of PROBE_NAMES) {
    const byCgroup = results[probe] as Map<bigint, ResultOf<typeof probe>> | undefined;
    if (byCgroup === undefined) continue;
    let total = 0;
    for (const result of byCgroup.values()) total += probeActivity(probe, result);
    events.set(probe, total);
  }
  return events;
}
