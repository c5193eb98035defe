// Events a probe lost because its ring buffer was full: the probes that post
// events count each failed bpf_ringbuf_reserve in a per-CPU `ringbuf_drops`
// map (bpf/loupe.h, LOUPE_RINGBUF_DROPS); probes without a ring buffer have none.

/** The map in bpf/loupe.h. */
export const RINGBUF_DROPS_MAP = 'ringbuf_drops';

/** What is read of a probe's maps (a BpfMap). */
export interface DropCounterMap {
  name: string;
  lookup(key: Buffer): Buffer | undefined;
  perCpuValues(value: Buffer): Buffer[];
}

const KEY = Buffer.alloc(4); // the array's one slot, index 0

/** Drops since the probe was loaded, summed over CPUs; undefined when it does not count them. */
export function ringBufferDrops(maps: readonly DropCounterMap[]): bigint | undefined {
  const counter = maps.find((m) => m.name === RINGBUF_DROPS_MAP);
  if (counter === undefined) return undefined;
  const value = counter.lookup(KEY);
  if (value === undefined) throw new Error(`${RINGBUF_DROPS_MAP} has no slot 0`);
  return counter.perCpuValues(value).reduce((sum, cpu) => sum + cpu.readBigUInt64LE(0), 0n);
}
