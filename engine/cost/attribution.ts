// Splitting what shared probes cost between the profiles sharing them. A
// probe's programs run for every profile at once (and, filtered out early, for
// untargeted processes too), so its kernel time in an interval goes to each
// profile in proportion to the events that profile got from it then; with no
// events at all, the cost of merely being attached is split equally between
// its users. Map memory is held for all users alike and is split equally.
// Ring-buffer drops cannot be split: whose event was lost is not known, so
// each user of the probe sees all of them.
import type { ProbeName } from '../../probes/registry.js';

/** One loaded probe over one interval. */
export interface ProbeInterval {
  probe: ProbeName;
  /** Kernel time of its programs during the interval. */
  runTimeNs: number;
  /** Locked memory of its maps now. */
  mapBytes: number;
  /** Profiles using it now. */
  users: readonly string[];
  /** Events each profile got from it during the interval (profiles that left meanwhile included). */
  events: ReadonlyMap<string, number>;
  /** Events its ring buffer dropped during the interval; undefined when the probe does not count them. */
  ringBufferDrops?: number;
}

export interface CostRates {
  /** Kernel CPU time in cores (ns per ns of wall time). */
  cpuCores: number;
  eventsPerSecond: number;
}

export interface AttributedCost extends CostRates {
  kernelMemoryBytes: number;
  /** Sum over its probes that count drops; undefined when none does. */
  ringBufferDrops?: number;
  /** Each probe's part of it, for the budget's choice of what to drop. */
  byProbe: Map<ProbeName, CostRates>;
}

export interface Attribution {
  node: AttributedCost;
  profiles: Map<string, AttributedCost>;
}

function emptyCost(): AttributedCost {
  return { cpuCores: 0, eventsPerSecond: 0, kernelMemoryBytes: 0, byProbe: new Map() };
}

/** Each profile's fraction of a probe's interval: by events, equally among its users when there were none. */
export function shares(probe: Pick<ProbeInterval, 'users' | 'events'>): Map<string, number> {
  const positive = [...probe.events].filter(([, n]) => n > 0);
  const total = positive.reduce((sum, [, n]) => sum + n, 0);
  if (total > 0) return new Map(positive.map(([uid, n]) => [uid, n / total]));
  return new Map(probe.users.map((uid) => [uid, 1 / probe.users.length]));
}

export function attributeCost(probes: readonly ProbeInterval[], elapsedNs: number): Attribution {
  if (!(elapsedNs > 0)) throw new RangeError(`attributeCost: elapsed time must be positive, got ${elapsedNs} ns`);
  const seconds = elapsedNs / 1e9;
  const node = emptyCost();
  const profiles = new Map<string, AttributedCost>();
  const costOf = (uid: string) => profiles.get(uid) ?? profiles.set(uid, emptyCost()).get(uid)!;
  for (const probe of probes) {
    const cpuCores = probe.runTimeNs / elapsedNs;
    let probeEvents = 0;
    for (const [uid, share] of shares(probe)) {
      const cost = costOf(uid);
      const eventsPerSecond = (probe.events.get(uid) ?? 0) / seconds;
      const rates = { cpuCores: cpuCores * share, eventsPerSecond };
      cost.cpuCores += rates.cpuCores;
      cost.eventsPerSecond += eventsPerSecond;
      cost.byProbe.set(probe.probe, rates);
      probeEvents += eventsPerSecond;
    }
    for (const uid of probe.users) {
      const cost = costOf(uid);
      cost.kernelMemoryBytes += Math.round(probe.mapBytes / probe.users.length);
      if (probe.ringBufferDrops !== undefined) cost.ringBufferDrops = (cost.ringBufferDrops ?? 0) + probe.ringBufferDrops;
    }
    if (probe.ringBufferDrops !== undefined) node.ringBufferDrops = (node.ringBufferDrops ?? 0) + probe.ringBufferDrops;
    node.cpuCores += cpuCores;
    node.eventsPerSecond += probeEvents;
    node.kernelMemoryBytes += probe.mapBytes;
    node.byProbe.set(probe.probe, { cpuCores, eventsPerSecond: probeEvents });
  }
  return { node, profiles };
}
