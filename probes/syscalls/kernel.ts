// The syscalls probe: per traced cgroup, the syscalls that returned, those
// that failed, their latency (log2 histogram) and which ones they were. The
// kernel (syscalls.bpf.c) keeps cumulative per-CPU counters per target
// slot; this side sums the CPUs, maps slots to cgroups through the targets
// map, and turns two reads into a delta. For the syscalls a profile filters on
// (syscalls.only) the kernel also keeps a latency histogram per syscall, so
// that profile's latency is of its syscalls alone (syscallsForProfile).
import { z } from 'zod';
import { HISTOGRAM_BUCKETS, histogramFromCounts, mergeHistograms, summarizeLatency, type Log2Histogram } from '../../api/histogram.js';
import { OTHER_TOP_KEY } from '../../api/top-list.js';
import type { SyscallsOptions, SyscallsResult } from './syscalls.js';
import { SYSCALL_ARCHES, SYSCALL_TABLES, type SyscallArch } from './syscall-names.js';
import type { BpfMap, BpfObject } from '../../native/index.js';
import { attachPrograms } from '../../engine/probes/attach-programs.js';
import { decodeStruct } from '../../engine/probes/kernel-decode.js';
import { layouts } from './layout.generated.js';
import { TARGETS_MAP, type ProbeDefinition } from '../../engine/probes/probe.js';
import { cgroupsBySlot, grown, readSlotDetails, readSlotTotals, slotKey, SlotDeltas } from '../../engine/probes/slot-counters.js';
import { NODE_SYSCALL_ARCH, syscallName } from './node-syscalls.js';
import { configureTargetStorage, syncTargetStorage, type TargetStorageOptions } from '../../engine/probes/target-storage.js';
import { TopList } from '../../engine/probes/top-list.js';

/** SYSCALLS_MAX_NR in syscalls.h: the number every other call is counted under. */
export const OTHER_SYSCALL_NR = 512;
/** SYSCALLS_TARGET_OWN_LATENCY in syscalls.h: a profile on the cgroup filters syscalls. */
export const TARGET_OWN_LATENCY = 1;
/** Per-syscall counter entries per target slot that the counts map has room for. */
const COUNT_ENTRIES_PER_TARGET = 64;

const { syscalls_totals: TOTALS, syscalls_key: COUNT_KEY, syscalls_count: COUNT, syscalls_latency: LATENCY } = layouts;
export const TOTALS_SIZE = TOTALS.size;
export const COUNT_SIZE = COUNT.size;
export const LATENCY_SIZE = LATENCY.size;

const u64 = z.bigint().min(0n).max(0xffff_ffff_ffff_ffffn);
const u32 = z.number().int().min(0).max(0xffff_ffff);

const TotalsSchema = z.object({
  errors: u64,
  zero: u64,
  latency: z.array(u64).length(HISTOGRAM_BUCKETS),
});
/** Cumulative counters of one target slot (struct syscalls_totals). */
export type Totals = z.infer<typeof TotalsSchema>;

const CountKeySchema = z.object({ slot: u32, nr: z.number().int().min(0).max(OTHER_SYSCALL_NR) });
export type CountKey = z.infer<typeof CountKeySchema>;

const CountSchema = z.object({ calls: u64, errors: u64 });
/** Cumulative counters of one (slot, syscall) (struct syscalls_count). */
export type Count = z.infer<typeof CountSchema>;

const LatencySchema = z.object({ zero: u64, latency: z.array(u64).length(HISTOGRAM_BUCKETS) });
/** Cumulative latency of one (slot, syscall) (struct syscalls_latency). */
export type Latency = z.infer<typeof LatencySchema>;

export function decodeTotals(buf: Buffer): Totals {
  return TotalsSchema.parse(decodeStruct(buf, TOTALS));
}

export function decodeCountKey(buf: Buffer): CountKey {
  return CountKeySchema.parse(decodeStruct(buf, COUNT_KEY));
}

export function decodeCount(buf: Buffer): Count {
  return CountSchema.parse(decodeStruct(buf, COUNT));
}

export function decodeLatency(buf: Buffer): Latency {
  return LatencySchema.parse(decodeStruct(buf, LATENCY));
}

export function sumTotals(perCpu: readonly Totals[]): Totals {
  const sum: Totals = { errors: 0n, zero: 0n, latency: new Array<bigint>(HISTOGRAM_BUCKETS).fill(0n) };
  for (const t of perCpu) {
    sum.errors += t.errors;
    sum.zero += t.zero;
    t.latency.forEach((c, k) => (sum.latency[k]! += c));
  }
  return sum;
}

export function sumLatencies(perCpu: readonly Latency[]): Latency {
  const sum: Latency = { zero: 0n, latency: new Array<bigint>(HISTOGRAM_BUCKETS).fill(0n) };
  for (const l of perCpu) {
    sum.zero += l.zero;
    l.latency.forEach((c, k) => (sum.latency[k]! += c));
  }
  return sum;
}

export function sumCounts(perCpu: readonly Count[]): Count {
  return perCpu.reduce((a, c) => ({ calls: a.calls + c.calls, errors: a.errors + c.errors }), { calls: 0n, errors: 0n });
}

/** What the kernel holds at one moment, CPUs summed. */
export interface SyscallsSnapshot {
  /** Target slot → cgroup id, from the targets map. */
  cgroupBySlot: ReadonlyMap<number, bigint>;
  /** Slot → cumulative totals, for the slots in cgroupBySlot. */
  totals: ReadonlyMap<number, Totals>;
  /** Slot → syscall number → cumulative count, for the slots in cgroupBySlot. */
  counts: ReadonlyMap<number, ReadonlyMap<number, Count>>;
  /** Slot → syscall number → cumulative latency, for the marked syscalls of the slots in cgroupBySlot. */
  latencies: ReadonlyMap<number, ReadonlyMap<number, Latency>>;
}

/**
 * A cgroup's delta as the reader returns it: the public result, plus the
 * latency of each syscall a profile filters on, which the manager needs to
 * give that profile the latency of its syscalls alone. The extra field never
 * leaves the manager.
 */
export interface SyscallsDelta extends SyscallsResult {
  latencyBySyscall?: ReadonlyMap<string, Log2Histogram>;
}

/** Name → number, per architecture (syscall-names.ts holds the tables). */
const SYSCALL_NUMBERS = new Map(
  SYSCALL_ARCHES.map((arch) => [arch, new Map([...SYSCALL_TABLES[arch]].map(([nr, name]) => [name, nr]))] as const),
);

/** The syscall's number on this node (or on arch), undefined for a name that table does not know. */
export function syscallNumber(name: string, arch: SyscallArch = NODE_SYSCALL_ARCH): number | undefined {
  return SYSCALL_NUMBERS.get(arch)?.get(name);
}

/** A slot's per-syscall counters and latencies: the details SlotDeltas keeps for it. */
interface SyscallDetails {
  counts: ReadonlyMap<number, Count>;
  latencies: ReadonlyMap<number, Latency>;
}

/** Per-cgroup deltas of cumulative snapshots (see SlotDeltas: per-syscall counts and latencies are the slots' details). */
export class SyscallsDeltas {
  private readonly slots = new SlotDeltas<Totals, SyscallDetails, SyscallsDelta>((now, before, details, detailsBefore) => {
    const zero = grown(now.zero, before?.zero);
    const latency = now.latency.map((c, k) => grown(c, before?.latency[k]));
    const calls = latency.reduce((a, b) => a + b, zero);
    if (calls === 0) return undefined;
    const top = new TopList(true);
    for (const [nr, c] of details?.counts ?? []) {
      const b = detailsBefore?.counts.get(nr);
      const n = grown(c.calls, b?.calls);
      if (n > 0) top.add(nr === OTHER_SYSCALL_NR ? OTHER_TOP_KEY : syscallName(nr), n, grown(c.errors, b?.errors));
    }
    const delta: SyscallsDelta = {
      calls,
      errors: grown(now.errors, before?.errors),
      latencyNs: summarizeLatency(histogramFromCounts(zero, latency)),
      topSyscalls: top.entries(),
    };
    const latencyBySyscall = latencyDeltas(details?.latencies, detailsBefore?.latencies);
    if (latencyBySyscall.size > 0) delta.latencyBySyscall = latencyBySyscall;
    return delta;
  });

  next(snapshot: SyscallsSnapshot): Map<bigint, SyscallsDelta> {
    const details = new Map<number, SyscallDetails>();
    for (const slot of snapshot.cgroupBySlot.keys()) {
      details.set(slot, { counts: snapshot.counts.get(slot) ?? new Map(), latencies: snapshot.latencies.get(slot) ?? new Map() });
    }
    return this.slots.next(snapshot.cgroupBySlot, snapshot.totals, details);
  }
}

function latencyDeltas(now: ReadonlyMap<number, Latency> | undefined, before: ReadonlyMap<number, Latency> | undefined): Map<string, Log2Histogram> {
  const bySyscall = new Map<string, Log2Histogram>();
  for (const [nr, l] of now ?? []) {
    const b = before?.get(nr);
    const histogram = histogramFromCounts(grown(l.zero, b?.zero), l.latency.map((c, k) => grown(c, b?.latency[k])));
    if (histogram.zeroCount > 0 || histogram.buckets.length > 0) bySyscall.set(syscallName(nr), histogram);
  }
  return bySyscall;
}

/** Reads the kernel's counters; deletes the per-syscall entries of slots no target holds. */
function readSnapshot(targets: BpfMap, totalsMap: BpfMap, countsMap: BpfMap, latencyMap: BpfMap): SyscallsSnapshot {
  const cgroupBySlot = cgroupsBySlot(targets);
  const bySyscall = (key: Buffer) => {
    const { slot, nr } = decodeCountKey(key);
    return { slot, detail: nr };
  };
  const counts = readSlotDetails(countsMap, cgroupBySlot, bySyscall, (perCpu) => sumCounts(perCpu.map(decodeCount)));
  const latencies = readSlotDetails(latencyMap, cgroupBySlot, bySyscall, (perCpu) => sumLatencies(perCpu.map(decodeLatency)));
  const totals = readSlotTotals(totalsMap, cgroupBySlot.keys(), (perCpu) => sumTotals(perCpu.map(decodeTotals)));
  return { cgroupBySlot, totals, counts, latencies };
}

/** The syscalls whose latency some profile needs apart: those its syscalls.only names (unknown names skipped). */
export function markedSyscalls(specs: readonly SyscallsOptions[]): Set<number> {
  const marked = new Set<number>();
  for (const spec of specs) {
    for (const name of spec.only ?? []) {
      const nr = syscallNumber(name);
      if (nr !== undefined) marked.add(nr);
    }
  }
  return marked;
}

/**
 * Why a profile's syscalls cannot be served on this node (of arch); undefined
 * when they can. Admission accepts a syscall of any architecture Loupe builds
 * for, so a node without it is where it fails.
 */
export function syscallsOptionsError(spec: SyscallsOptions, arch: SyscallArch = NODE_SYSCALL_ARCH): string | undefined {
  const unknown = (spec.only ?? []).find((name) => syscallNumber(name, arch) === undefined);
  return unknown === undefined ? undefined : `syscalls.only: unknown syscall ${JSON.stringify(unknown)} on this node (${arch})`;
}

/** Only the syscalls the profile names: counts, errors, top list and latency of those alone. */
export function syscallsForProfile(spec: SyscallsOptions, delta: SyscallsDelta): SyscallsResult | undefined {
  const { latencyBySyscall, ...result } = delta;
  if (spec.only === undefined) return result;
  const only = new Set(spec.only);
  const topSyscalls = result.topSyscalls.filter((e) => only.has(e.key));
  const calls = topSyscalls.reduce((sum, e) => sum + e.count, 0);
  if (calls === 0) return undefined;
  const histograms = spec.only.flatMap((name) => latencyBySyscall?.get(name) ?? []);
  return {
    calls,
    errors: topSyscalls.reduce((sum, e) => sum + (e.errors ?? 0), 0),
    latencyNs: summarizeLatency(mergeHistograms(...histograms)),
    topSyscalls,
  };
}

/** The probe; options.targetStorage: false keeps its filter on the targets hash (see target-storage.ts). */
export function syscallsProbe(options: TargetStorageOptions = {}): ProbeDefinition<SyscallsResult, SyscallsOptions> {
  return {
    objectFile: 'syscalls.bpf.o',

    optionsError: (spec) => syscallsOptionsError(spec),
    forProfile: (spec, delta) => syscallsForProfile(spec, delta as SyscallsDelta),

    configure(obj: BpfObject) {
      // Slots index `totals` and key `counts`, so both follow the targets map's size.
      const maxTargets = obj.map(TARGETS_MAP).maxEntries;
      obj.setMaxEntries('totals', maxTargets);
      obj.setMaxEntries('counts', maxTargets * COUNT_ENTRIES_PER_TARGET);
      obj.setMaxEntries('syscall_latency', maxTargets * COUNT_ENTRIES_PER_TARGET);
      configureTargetStorage(obj, options);
    },

    syncTarget: syncTargetStorage,

    applyOptions(obj, specs) {
      const marked = markedSyscalls(specs);
      const flags = obj.map('latency_syscalls');
      for (let nr = 0; nr < OTHER_SYSCALL_NR; nr++) {
        const value = Buffer.alloc(4);
        value.writeUInt32LE(marked.has(nr) ? 1 : 0);
        flags.update(slotKey(nr), value);
      }
    },

    targetFlags: (specs) => (specs.some((spec) => spec.only !== undefined) ? TARGET_OWN_LATENCY : 0),

    attach(obj) {
      return attachPrograms(obj, ['loupe_sys_enter', 'loupe_sys_exit']);
    },

    reader(obj) {
      const targets = obj.map(TARGETS_MAP);
      const totals = obj.map('totals');
      const counts = obj.map('counts');
      const latencies = obj.map('syscall_latency');
      const deltas = new SyscallsDeltas();
      return {
        collect: () => deltas.next(readSnapshot(targets, totals, counts, latencies)),
        close() {}, // no ring buffer: the maps go with the object
      };
    },
  };
}

export const syscallsKernel = syscallsProbe();
