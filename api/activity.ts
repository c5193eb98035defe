// A result set's activity: the sum of each probe's (its descriptor's
// `activity`: the events its programs saw and did work for). The one answer
// to "how busy": the agent ranks and cuts its per-pod list by it, the
// operator re-ranks pods across nodes by it, and cost attribution divides a
// probe's CPU time by it. Ranking by a subset of the probes made pods busy
// only on the others (disk, CPU) rank last and be the ones the node's cut dropped.
import { descriptorOf, PROBE_NAMES, type ProbeName, type ResultOf } from '../probes/registry.js';
import type { ProbeResults } from './results.js';

export function probeActivity<N extends ProbeName>(probe: N, result: ResultOf<N>): number {
  return descriptorOf(probe).activity(result);
}

/** Summed over every probe present: comparable between pods of one profile, which run the same probes. */
export function activityOf(results: ProbeResults): number {
  let total = 0;
  for (const probe of PROBE_NAMES) {
    const result = results[probe];
    if (result !== undefined) total += probeActivity(probe, result as ResultOf<typeof probe>);
  }
  return total;
}
