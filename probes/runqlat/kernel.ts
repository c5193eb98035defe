// The runqlat probe: per traced cgroup, how long its threads waited on a run
// queue before running (log2 histogram) and which threads waited. The kernel
// (runqlat.bpf.c) keeps cumulative per-CPU counters per target slot; this
// side sums the CPUs, maps slots to cgroups through the targets map, and
// turns two reads into a delta.
import { z } from 'zod';
import { HISTOGRAM_BUCKETS, histogramFromCounts, summarizeLatency } from '../../api/histogram.js';
import type { RunqlatResult } from './runqlat.js';
import type { BpfMap, BpfObject } from '../../native/index.js';
import { attachPrograms } from '../../engine/probes/attach-programs.js';
import { decodeStruct, expectSize } from '../../engine/probes/kernel-decode.js';
import { layouts } from './layout.generated.js';
import { TARGETS_MAP, type ProbeDefinition } from '../../engine/probes/probe.js';
import { cgroupsBySlot, grown, readSlotDetails, readSlotTotals, SlotDeltas } from '../../engine/probes/slot-counters.js';
import { TopList } from '../../engine/probes/top-list.js';
import { configureTargetStorage, syncTargetStorage } from '../../engine/probes/target-storage.js';

/** Thread-name entries per target slot that the waits map has room for. */
const WAIT_ENTRIES_PER_TARGET = 64;

const { runqlat_totals: TOTALS, runqlat_key: KEY } = layouts;
export const RUNQLAT_TOTALS_SIZE = TOTALS.size;
export const RUNQLAT_KEY_SIZE = KEY.size;

const u64 = z.bigint().min(0n).max(0xffff_ffff_ffff_ffffn);

const RunqlatTotalsSchema = z.object({ zero: u64, latency: z.array(u64).length(HISTOGRAM_BUCKETS) });
/** Cumulative waits of one target slot (struct runqlat_totals). */
export type RunqlatTotals = z.infer<typeof RunqlatTotalsSchema>;

const RunqlatKeySchema = z.object({ slot: z.number().int().min(0).max(0xffff_ffff), comm: z.string() });
export type RunqlatKey = z.infer<typeof RunqlatKeySchema>;

export function decodeRunqlatTotals(buf: Buffer): RunqlatTotals {
  return RunqlatTotalsSchema.parse(decodeStruct(buf, TOTALS));
}

export function decodeRunqlatKey(buf: Buffer): RunqlatKey {
  return RunqlatKeySchema.parse(decodeStruct(buf, KEY));
}

export function sumRunqlatTotals(perCpu: readonly RunqlatTotals[]): RunqlatTotals {
  const sum: RunqlatTotals = { zero: 0n, latency: new Array<bigint>(HISTOGRAM_BUCKETS).fill(0n) };
  for (const t of perCpu) {
    sum.zero += t.zero;
    t.latency.forEach((c, k) => (sum.latency[k]! += c));
  }
  return sum;
}

/** What the kernel holds at one moment, CPUs summed. */
export interface RunqlatSnapshot {
  /** Target slot → cgroup id, from the targets map. */
  cgroupBySlot: ReadonlyMap<number, bigint>;
  /** Slot → cumulative totals, for the slots in cgroupBySlot. */
  totals: ReadonlyMap<number, RunqlatTotals>;
  /** Slot → thread name → cumulative waits, for the slots in cgroupBySlot. */
  waits: ReadonlyMap<number, ReadonlyMap<string, bigint>>;
}

/** Per-cgroup deltas of cumulative snapshots (see SlotDeltas: waits by thread name are the slots' details). */
export class RunqlatDeltas {
  private readonly slots = new SlotDeltas<RunqlatTotals, ReadonlyMap<string, bigint>, RunqlatResult>((now, before, waits, waitsBefore) => {
    const zero = grown(now.zero, before?.zero);
    const latency = now.latency.map((c, k) => grown(c, before?.latency[k]));
    if (latency.reduce((a, b) => a + b, zero) === 0) return undefined;
    const top = new TopList(false);
    for (const [comm, c] of waits ?? []) {
      const n = grown(c, waitsBefore?.get(comm));
      if (n > 0) top.add(comm, n);
    }
    return { latencyNs: summarizeLatency(histogramFromCounts(zero, latency)), topCommands: top.entries() };
  });

  next(snapshot: RunqlatSnapshot): Map<bigint, RunqlatResult> {
    return this.slots.next(snapshot.cgroupBySlot, snapshot.totals, snapshot.waits);
  }
}

function sumU64(perCpu: readonly Buffer[]): bigint {
  return perCpu.reduce((sum, b) => {
    expectSize(b, 8, 'wait counter');
    return sum + b.readBigUInt64LE(0);
  }, 0n);
}

/** Reads the kernel's counters; deletes the per-name entries of slots no target holds. */
function readSnapshot(targets: BpfMap, totalsMap: BpfMap, waitsMap: BpfMap): RunqlatSnapshot {
  const cgroupBySlot = cgroupsBySlot(targets);
  const waits = readSlotDetails(
    waitsMap,
    cgroupBySlot,
    (key) => {
      const { slot, comm } = decodeRunqlatKey(key);
      return { slot, detail: comm };
    },
    sumU64,
    (a, b) => a + b,
  );
  const totals = readSlotTotals(totalsMap, cgroupBySlot.keys(), (perCpu) => sumRunqlatTotals(perCpu.map(decodeRunqlatTotals)));
  return { cgroupBySlot, totals, waits };
}

export const runqlatKernel: ProbeDefinition<RunqlatResult> = {
  objectFile: 'runqlat.bpf.o',

  configure(obj: BpfObject) {
    const maxTargets = obj.map(TARGETS_MAP).maxEntries;
    obj.setMaxEntries('totals', maxTargets);
    obj.setMaxEntries('waits', maxTargets * WAIT_ENTRIES_PER_TARGET);
    configureTargetStorage(obj, {});
  },

  syncTarget: syncTargetStorage,

  attach(obj) {
    return attachPrograms(obj, ['loupe_sched_wakeup', 'loupe_sched_wakeup_new', 'loupe_sched_switch']);
  },

  reader(obj) {
    const targets = obj.map(TARGETS_MAP);
    const totals = obj.map('totals');
    const waits = obj.map('waits');
    const deltas = new RunqlatDeltas();
    return {
      collect: () => deltas.next(readSnapshot(targets, totals, waits)),
      close() {}, // no ring buffer: the maps go with the object
    };
  },
};
