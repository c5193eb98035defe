// The one reader of per-slot kernel counters, shared by the probes that
// aggregate in the kernel (syscalls, runqlat, biolatency, netbytes): each
// target cgroup has a slot; a per-CPU array holds its cumulative totals,
// and a per-CPU hash keyed by (slot, detail) its cumulative per-detail
// counters (a syscall, a thread name, a device). Reads turn into deltas per
// cgroup. Totals are remembered per slot for as long as the reader lives (the
// array keeps them when a slot changes hands); details only while the slot is
// mapped, because the reader deletes a free slot's entries from the kernel.
import type { BpfMap } from '../../native/index.js';
import { decodeCgroupId } from './kernel-decode.js';
import { decodeTargetValue } from './target-value.js';

/** A counter's growth since the previous read. Kernel counters only grow, so one that shrank was recreated: all of it is new. */
export function grown(now: bigint, before: bigint | undefined): number {
  return Number(before === undefined || now < before ? now : now - before);
}

/** A per-CPU array's key: the slot (__u32). */
export function slotKey(slot: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(slot);
  return key;
}

/** Slot → cgroup id, from the targets map. */
export function cgroupsBySlot(targets: BpfMap): Map<number, bigint> {
  const bySlot = new Map<number, bigint>();
  for (const [key, value] of targets.entries()) bySlot.set(decodeTargetValue(value).slot, decodeCgroupId(key));
  return bySlot;
}

/** Each mapped slot's totals from the per-CPU array, CPUs summed. */
export function readSlotTotals<T>(totalsMap: BpfMap, slots: Iterable<number>, sum: (perCpu: Buffer[]) => T): Map<number, T> {
  const totals = new Map<number, T>();
  for (const slot of slots) {
    const value = totalsMap.lookup(slotKey(slot));
    if (value !== undefined) totals.set(slot, sum(totalsMap.perCpuValues(value)));
  }
  return totals;
}

/**
 * Slot → detail → the entry's value, CPUs summed, from a per-CPU hash keyed by
 * (slot, detail); deletes the entries of slots no target holds.
 */
export function readSlotDetails<K, V>(
  map: BpfMap,
  mapped: ReadonlyMap<number, bigint>,
  decodeKey: (key: Buffer) => { slot: number; detail: K },
  sum: (perCpu: Buffer[]) => V,
  combine?: (a: V, b: V) => V,
): Map<number, Map<K, V>> {
  const bySlot = new Map<number, Map<K, V>>();
  for (const [key, value] of map.entries()) {
    const { slot, detail } = decodeKey(key);
    if (!mapped.has(slot)) {
      map.delete(key);
      continue;
    }
    let byDetail = bySlot.get(slot);
    if (byDetail === undefined) bySlot.set(slot, (byDetail = new Map()));
    const now = sum(map.perCpuValues(value));
    const already = byDetail.get(detail);
    byDetail.set(detail, already !== undefined && combine !== undefined ? combine(already, now) : now);
  }
  return bySlot;
}

/** One slot's delta: from its totals and details now and at the previous read; undefined when nothing happened. */
export type SlotDelta<T, D, R> = (now: T, before: T | undefined, details: D | undefined, detailsBefore: D | undefined) => R | undefined;

export class SlotDeltas<T, D, R> {
  private readonly totals = new Map<number, T>();
  private details = new Map<number, D>();

  constructor(private readonly delta: SlotDelta<T, D, R>) {}

  /** Per cgroup id, what happened since the previous call. */
  next(cgroupBySlot: ReadonlyMap<number, bigint>, totals: ReadonlyMap<number, T>, details: ReadonlyMap<number, D>): Map<bigint, R> {
    const results = new Map<bigint, R>();
    const kept = new Map<number, D>();
    for (const [slot, cgroupId] of cgroupBySlot) {
      const nowDetails = details.get(slot);
      if (nowDetails !== undefined) kept.set(slot, nowDetails);
      const now = totals.get(slot);
      if (now === undefined) continue;
      const before = this.totals.get(slot);
      this.totals.set(slot, now);
      const result = this.delta(now, before, nowDetails, this.details.get(slot));
      if (result !== undefined) results.set(cgroupId, result);
    }
    this.details = kept;
    return results;
  }
}
