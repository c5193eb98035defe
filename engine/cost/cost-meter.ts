// The agent's cost accounting, one interval at a time: how much kernel time
// each loaded probe's programs took (BPF run-time statistics), how many
// events each profile got from each probe, the probes' map memory, the events
// their ring buffers dropped, and the agent's own CPU and memory; then the
// split between profiles (attribution.ts).
import type { NodeCost, ProfileCost } from '../../api/cost.js';
import type { ProbeName } from '../../probes/registry.js';
import type { ProgramStats } from '../../native/index.js';
import { attributeCost, type AttributedCost, type CostRates, type ProbeInterval } from './attribution.js';
import type { BpfStats } from './bpf-stats.js';
import { mapMemoryBytes } from './map-memory.js';
import { ringBufferDrops, type DropCounterMap } from './ringbuf-drops.js';

/** What the meter reads of a probe's BpfObject. */
export interface MeteredObject {
  loadedPrograms(): { id: number; stats(): ProgramStats }[];
  maps(): ({ fd: number } & DropCounterMap)[];
}

/** A loaded probe as the meter sees it (ProbeManager.loadedObjects()). */
export interface MeteredProbe {
  name: ProbeName;
  object: MeteredObject;
  users: readonly string[];
}

export interface ProfileCostReport {
  cost: ProfileCost;
  byProbe: Map<ProbeName, CostRates>;
}

export interface CostReport {
  node: NodeCost;
  profiles: Map<string, ProfileCostReport>;
  /** Length of the interval measured. */
  elapsedNs: number;
}

export interface CostMeterSources {
  nowNs: () => bigint;
  cpuUsage: () => NodeJS.CpuUsage;
  rssBytes: () => number;
  mapBytes: (fd: number) => number;
}

const defaultSources: CostMeterSources = {
  nowNs: () => process.hrtime.bigint(),
  cpuUsage: () => process.cpuUsage(),
  rssBytes: () => process.memoryUsage.rss(),
  mapBytes: (fd) => mapMemoryBytes(fd),
};

interface Baseline {
  atNs: bigint;
  cpu: NodeJS.CpuUsage;
  /** Program id → its run time then. */
  runTimeNs: Map<number, bigint>;
  /** Profile uid → probe → its accumulated events then. */
  events: Map<string, Map<ProbeName, number>>;
  /** Probe object → its ring-buffer drops then (objects that count them). */
  drops: Map<MeteredObject, bigint>;
}

/** Cost figures rounded to 3 significant digits: more would be noise, and status churn. */
function round(n: number): number {
  return n === 0 ? 0 : Number(n.toPrecision(3));
}

export class CostMeter {
  private baseline: Baseline | undefined;
  private readonly sources: CostMeterSources;

  constructor(
    private readonly stats: BpfStats,
    sources: Partial<CostMeterSources> = {},
  ) {
    this.sources = { ...defaultSources, ...sources };
  }

  /**
   * The cost since the previous call, or undefined on the first call (it only
   * sets the baseline). `events` is each profile's accumulated events per
   * probe (eventsByProbe of its results); a profile's first count is taken
   * as all new, since its results start at zero when it registers.
   */
  measure(probes: readonly MeteredProbe[], events: ReadonlyMap<string, ReadonlyMap<ProbeName, number>>): CostReport | undefined {
    const now: Baseline = {
      atNs: this.sources.nowNs(),
      cpu: this.sources.cpuUsage(),
      runTimeNs: new Map(),
      events: new Map([...events].map(([uid, byProbe]) => [uid, new Map(byProbe)])),
      drops: new Map(),
    };
    const intervals = probes.map((probe) => this.probeInterval(probe, now));
    const previous = this.baseline;
    this.baseline = now;
    if (previous === undefined) return undefined;
    const elapsedNs = Number(now.atNs - previous.atNs);
    if (elapsedNs <= 0) return undefined;

    const attribution = attributeCost(intervals, elapsedNs);
    const agentCpuUs = now.cpu.user - previous.cpu.user + (now.cpu.system - previous.cpu.system);
    const node: NodeCost = {
      ...this.profileCost(attribution.node),
      agentCpuCores: round((agentCpuUs * 1000) / elapsedNs),
      agentMemoryBytes: this.sources.rssBytes(),
    };
    const profiles = new Map<string, ProfileCostReport>();
    for (const [uid, cost] of attribution.profiles) profiles.set(uid, { cost: this.profileCost(cost), byProbe: cost.byProbe });
    return { node, profiles, elapsedNs };
  }

  /** A probe's kernel time and each profile's events since the baseline; records `now`'s figures on the way. */
  private probeInterval(probe: MeteredProbe, now: Baseline): ProbeInterval {
    let runTimeNs = 0n;
    for (const program of probe.object.loadedPrograms()) {
      const total = program.stats().runTimeNs;
      now.runTimeNs.set(program.id, total);
      const before = this.baseline?.runTimeNs.get(program.id) ?? 0n; // loaded during the interval: from zero
      runTimeNs += total - before;
    }
    const events = new Map<string, number>();
    for (const [uid, byProbe] of now.events) {
      const total = byProbe.get(probe.name);
      if (total === undefined) continue;
      const before = this.baseline?.events.get(uid)?.get(probe.name) ?? 0;
      events.set(uid, total >= before ? total - before : total); // its results restarted: all of them are new
    }
    const maps = probe.object.maps();
    const mapBytes = maps.reduce((sum, map) => sum + this.sources.mapBytes(map.fd), 0);
    const interval: ProbeInterval = { probe: probe.name, runTimeNs: Number(runTimeNs), mapBytes, users: probe.users, events };
    const drops = ringBufferDrops(maps);
    if (drops !== undefined) {
      now.drops.set(probe.object, drops);
      // A counter only grows; an object loaded during the interval counts from zero.
      interval.ringBufferDrops = Number(drops - (this.baseline?.drops.get(probe.object) ?? 0n));
    }
    return interval;
  }

  /** Turns the kernel's statistics off again, if the meter turned them on. */
  close(): void {
    this.stats.close();
  }

  /** The status form: rounded, and with the reason when CPU could not be measured. */
  private profileCost(cost: AttributedCost): ProfileCost {
    const reported: ProfileCost = {
      cpuCores: this.stats.measured ? round(cost.cpuCores) : 0,
      eventsPerSecond: round(cost.eventsPerSecond),
      kernelMemoryBytes: cost.kernelMemoryBytes,
    };
    if (cost.ringBufferDrops !== undefined) reported.ringBufferDrops = cost.ringBufferDrops;
    if (!this.stats.measured) reported.unmeasured = this.stats.reason.slice(0, 256);
    return reported;
  }

  /** The cost of a profile with no loaded probe: zero, with the same caveat. */
  zeroCost(): ProfileCost {
    return this.profileCost({ cpuCores: 0, eventsPerSecond: 0, kernelMemoryBytes: 0, byProbe: new Map() });
  }
}
