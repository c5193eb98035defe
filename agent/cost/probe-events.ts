// What one probe "event" is, for cost attribution and eventsPerSecond: the
// thing its programs do work for (a syscall, an exec or exit, a sample, a
// packet). Attribution only compares counts of the same probe, so each probe
// needs a count that grows with its programs' work, not a common unit.
import { histogramCount } from '../../api/histogram.js';
import { PROBE_NAMES, type ProbeName } from '../../api/results.js';
import type { ProfileResults } from '../probe-manager.js';
import type { ProbeResult } from '../probes/probe.js';

const EVENTS: { [N in ProbeName]: (r: ProbeResult<N>) => number } = {
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

export function probeEvents<N extends ProbeName>(probe: N, result: ProbeResult<N>): number {
  return EVENTS[probe](result);
}

/** Events in a profile's accumulated results, per probe, over all its cgroups. */
export function eventsByProbe(results: ProfileResults): Map<ProbeName, number> {
  const events = new Map<ProbeName, number>();
  for (const probe of PROBE_NAMES) {
    const byCgroup = results[probe] as Map<bigint, ProbeResult<typeof probe>> | undefined;
    if (byCgroup === undefined) continue;
    let total = 0;
    for (const result of byCgroup.values()) total += probeEvents(probe, result);
    events.set(probe, total);
  }
  return events;
}
