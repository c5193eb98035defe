// The biolatency probe: per traced cgroup, the block I/O requests its tasks
// submitted, their bytes, errors and latency (log2 histogram), and which
// devices served them. The kernel (biolatency.bpf.c) keeps cumulative
// per-CPU counters per target slot; this side sums the CPUs, maps slots to
// cgroups through the targets map, and turns two reads into a delta.
import { readlinkSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { HISTOGRAM_BUCKETS, histogramFromCounts, summarizeLatency } from '../../api/histogram.js';
import type { BiolatencyResult } from './biolatency.js';
import type { BpfMap, BpfObject } from '../../native/index.js';
import { attachPrograms } from '../../engine/probes/attach-programs.js';
import { decodeStruct } from '../../engine/probes/kernel-decode.js';
import { layouts } from './layout.generated.js';
import { TARGETS_MAP, type ProbeDefinition } from '../../engine/probes/probe.js';
import { cgroupsBySlot, grown, readSlotDetails, readSlotTotals, SlotDeltas } from '../../engine/probes/slot-counters.js';
import { TopList } from '../../engine/probes/top-list.js';

/** Device entries per target slot that the devices map has room for. */
const DEVICE_ENTRIES_PER_TARGET = 16;

const { biolatency_totals: TOTALS, biolatency_key: KEY, biolatency_count: COUNT } = layouts;
export const BIO_TOTALS_SIZE = TOTALS.size;
export const BIO_KEY_SIZE = KEY.size;
export const BIO_COUNT_SIZE = COUNT.size;

const u64 = z.bigint().min(0n).max(0xffff_ffff_ffff_ffffn);
const u32 = z.number().int().min(0).max(0xffff_ffff);

const BioTotalsSchema = z.object({
  ios: u64,
  errors: u64,
  bytesRead: u64,
  bytesWritten: u64,
  zero: u64,
  latency: z.array(u64).length(HISTOGRAM_BUCKETS),
});
/** Cumulative counters of one target slot (struct biolatency_totals). */
export type BioTotals = z.infer<typeof BioTotalsSchema>;

const BioKeySchema = z.object({ slot: u32, dev: u32 });
export type BioKey = z.infer<typeof BioKeySchema>;

const BioCountSchema = z.object({ ios: u64, errors: u64 });
export type BioCount = z.infer<typeof BioCountSchema>;

export function decodeBioTotals(buf: Buffer): BioTotals {
  return BioTotalsSchema.parse(decodeStruct(buf, TOTALS));
}

export function decodeBioKey(buf: Buffer): BioKey {
  return BioKeySchema.parse(decodeStruct(buf, KEY));
}

export function decodeBioCount(buf: Buffer): BioCount {
  return BioCountSchema.parse(decodeStruct(buf, COUNT));
}

export function sumBioTotals(perCpu: readonly BioTotals[]): BioTotals {
  const sum: BioTotals = {
    ios: 0n,
    errors: 0n,
    bytesRead: 0n,
    bytesWritten: 0n,
    zero: 0n,
    latency: new Array<bigint>(HISTOGRAM_BUCKETS).fill(0n),
  };
  for (const t of perCpu) {
    sum.ios += t.ios;
    sum.errors += t.errors;
    sum.bytesRead += t.bytesRead;
    sum.bytesWritten += t.bytesWritten;
    sum.zero += t.zero;
    t.latency.forEach((c, k) => (sum.latency[k]! += c));
  }
  return sum;
}

export function sumBioCounts(perCpu: readonly BioCount[]): BioCount {
  return perCpu.reduce((a, c) => ({ ios: a.ios + c.ios, errors: a.errors + c.errors }), { ios: 0n, errors: 0n });
}

/** The kernel's dev_t (major << 20 | minor) as "major:minor". */
export function deviceNumber(dev: number): string {
  return `${dev >>> 20}:${dev & 0xfffff}`;
}

/** A device's kernel name (vda, nvme0n1p1, loop3) from /sys/dev/block, else "major:minor". */
export function deviceName(dev: number, sysDevBlock = '/sys/dev/block'): string {
  try {
    return path.basename(readlinkSync(path.join(sysDevBlock, deviceNumber(dev))));
  } catch {
    return deviceNumber(dev); // gone since, or a request with no partition (passthrough)
  }
}

/** What the kernel holds at one moment, CPUs summed. */
export interface BioSnapshot {
  /** Target slot → cgroup id, from the targets map. */
  cgroupBySlot: ReadonlyMap<number, bigint>;
  /** Slot → cumulative totals, for the slots in cgroupBySlot. */
  totals: ReadonlyMap<number, BioTotals>;
  /** Slot → dev_t → cumulative count, for the slots in cgroupBySlot. */
  devices: ReadonlyMap<number, ReadonlyMap<number, BioCount>>;
}

/** Per-cgroup deltas of cumulative snapshots (see SlotDeltas: counts by device are the slots' details). */
export class BioDeltas {
  private readonly slots: SlotDeltas<BioTotals, ReadonlyMap<number, BioCount>, BiolatencyResult>;

  constructor(nameOf: (dev: number) => string = deviceName) {
    this.slots = new SlotDeltas((now, before, devices, devicesBefore) => {
      const ios = grown(now.ios, before?.ios);
      const bytesRead = grown(now.bytesRead, before?.bytesRead);
      const bytesWritten = grown(now.bytesWritten, before?.bytesWritten);
      if (ios === 0 && bytesRead === 0 && bytesWritten === 0) return undefined;
      const top = new TopList(true);
      for (const [dev, c] of devices ?? []) {
        const b = devicesBefore?.get(dev);
        const n = grown(c.ios, b?.ios);
        if (n > 0) top.add(nameOf(dev), n, grown(c.errors, b?.errors));
      }
      return {
        ios,
        errors: grown(now.errors, before?.errors),
        bytesRead,
        bytesWritten,
        latencyNs: summarizeLatency(histogramFromCounts(grown(now.zero, before?.zero), now.latency.map((c, k) => grown(c, before?.latency[k])))),
        topDevices: top.entries(),
      };
    });
  }

  next(snapshot: BioSnapshot): Map<bigint, BiolatencyResult> {
    return this.slots.next(snapshot.cgroupBySlot, snapshot.totals, snapshot.devices);
  }
}

/** Reads the kernel's counters; deletes the per-device entries of slots no target holds. */
function readSnapshot(targets: BpfMap, totalsMap: BpfMap, devicesMap: BpfMap): BioSnapshot {
  const cgroupBySlot = cgroupsBySlot(targets);
  const devices = readSlotDetails(
    devicesMap,
    cgroupBySlot,
    (key) => {
      const { slot, dev } = decodeBioKey(key);
      return { slot, detail: dev };
    },
    (perCpu) => sumBioCounts(perCpu.map(decodeBioCount)),
  );
  const totals = readSlotTotals(totalsMap, cgroupBySlot.keys(), (perCpu) => sumBioTotals(perCpu.map(decodeBioTotals)));
  return { cgroupBySlot, totals, devices };
}

export const biolatencyKernel: ProbeDefinition<BiolatencyResult> = {
  objectFile: 'biolatency.bpf.o',

  configure(obj: BpfObject) {
    const maxTargets = obj.map(TARGETS_MAP).maxEntries;
    obj.setMaxEntries('totals', maxTargets);
    obj.setMaxEntries('devices', maxTargets * DEVICE_ENTRIES_PER_TARGET);
  },

  attach(obj) {
    return attachPrograms(obj, ['loupe_block_io_start', 'loupe_block_rq_merge', 'loupe_block_rq_complete']);
  },

  reader(obj) {
    const targets = obj.map(TARGETS_MAP);
    const totals = obj.map('totals');
    const devices = obj.map('devices');
    const deltas = new BioDeltas();
    return {
      collect: () => deltas.next(readSnapshot(targets, totals, devices)),
      close() {}, // no ring buffer: the maps go with the object
    };
  },
};
