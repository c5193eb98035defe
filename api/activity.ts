// A probe result's activity: the events the probe's programs saw and did work
// for (an exec or an exit, a syscall, an open, a connection event, a wakeup,
// an I/O, a packet, a sample). The one answer to "how busy": the agent ranks
// and cuts its per-pod list by it, the operator re-ranks pods across nodes by
// it, and cost attribution divides a probe's CPU time by it. Ranking by a
// subset of the probes made pods busy only on the others (disk, CPU) rank
// last and be the ones the node's cut dropped.
import { histogramCount } from './histogram.js';
import type { ResultOf } from './merge.js';
import { PROBE_NAMES, type ProbeName, type ProbeResults } from './results.js';

/** Typed over every probe name, so a new probe cannot be left out. */
const ACTIVITY: { [N in ProbeName]: (r: ResultOf<N>) => number } = {
  exec: (r) => r.execs + r.exits,
  syscalls: (r) => r.calls,
  files: (r) => r.opens,
  tcp: (r) => r.connects + r.connectFailures + r.accepts + r.closed + r.retransmits,
  runqlat: (r) => histogramCount(r.latencyNs.histogram),
  oomkill: (r) => r.kills,
  biolatency: (r) => r.ios,
  netbytes: (r) => r.packetsSent + r.packetsReceived,
  profile: (r) => r.samples,
};

export function probeActivity<N extends ProbeName>(probe: N, result: ResultOf<N>): number {
  return (ACTIVITY[probe] as (r: ResultOf<N>) => number)(result);
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
