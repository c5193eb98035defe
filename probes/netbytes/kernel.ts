// The netbytes probe: per traced cgroup, IP bytes and packets its sockets
// sent and received, and packets by protocol. Its cgroup_skb programs
// (netbytes.bpf.c) are attached once, at the root of the cgroup2
// hierarchy, where they see every socket of the node and filter by the
// socket's cgroup; this side sums the CPUs, maps slots to cgroups through the
// targets map, and turns two reads into a delta.
import { z } from 'zod';
import type { NetbytesResult } from './netbytes.js';
import type { TopEntry } from '../../api/top-list.js';
import type { BpfLink, BpfMap, BpfObject } from '../../native/index.js';
import { findCgroup2Mount } from '../../engine/cgroup/mount.js';
import { decodeStruct } from '../../engine/probes/kernel-decode.js';
import { layouts } from './layout.generated.js';
import { TARGETS_MAP, type ProbeDefinition } from '../../engine/probes/probe.js';
import { cgroupsBySlot, grown, readSlotTotals, SlotDeltas } from '../../engine/probes/slot-counters.js';

/** enum netbytes_protocol in netbytes.h, by index. */
export const NET_PROTOCOLS = ['tcp', 'udp', 'icmp', 'other'] as const;
const TOTALS = layouts.netbytes_totals;
export const NET_TOTALS_SIZE = TOTALS.size;

const u64 = z.bigint().min(0n).max(0xffff_ffff_ffff_ffffn);

const NetTotalsSchema = z.object({
  bytesSent: u64,
  bytesReceived: u64,
  packetsSent: u64,
  packetsReceived: u64,
  protocols: z.array(u64).length(NET_PROTOCOLS.length),
});
/** Cumulative counters of one target slot (struct netbytes_totals). */
export type NetTotals = z.infer<typeof NetTotalsSchema>;

export function decodeNetTotals(buf: Buffer): NetTotals {
  return NetTotalsSchema.parse(decodeStruct(buf, TOTALS));
}

export function sumNetTotals(perCpu: readonly NetTotals[]): NetTotals {
  const sum: NetTotals = {
    bytesSent: 0n,
    bytesReceived: 0n,
    packetsSent: 0n,
    packetsReceived: 0n,
    protocols: NET_PROTOCOLS.map(() => 0n),
  };
  for (const t of perCpu) {
    sum.bytesSent += t.bytesSent;
    sum.bytesReceived += t.bytesReceived;
    sum.packetsSent += t.packetsSent;
    sum.packetsReceived += t.packetsReceived;
    t.protocols.forEach((c, i) => (sum.protocols[i]! += c));
  }
  return sum;
}

/** What the kernel holds at one moment, CPUs summed. */
export interface NetSnapshot {
  /** Target slot → cgroup id, from the targets map. */
  cgroupBySlot: ReadonlyMap<number, bigint>;
  /** Slot → cumulative totals, for the slots in cgroupBySlot. */
  totals: ReadonlyMap<number, NetTotals>;
}

/** Per-cgroup deltas of cumulative snapshots (see SlotDeltas; netbytes has no per-slot details). */
export class NetDeltas {
  private readonly slots = new SlotDeltas<NetTotals, never, NetbytesResult>((now, before) => {
    const packetsSent = grown(now.packetsSent, before?.packetsSent);
    const packetsReceived = grown(now.packetsReceived, before?.packetsReceived);
    if (packetsSent === 0 && packetsReceived === 0) return undefined;
    const topProtocols: TopEntry[] = NET_PROTOCOLS.map((key, i) => ({ key, count: grown(now.protocols[i]!, before?.protocols[i]) }))
      .filter((e) => e.count > 0)
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
    return {
      bytesSent: grown(now.bytesSent, before?.bytesSent),
      bytesReceived: grown(now.bytesReceived, before?.bytesReceived),
      packetsSent,
      packetsReceived,
      topProtocols,
    };
  });

  next(snapshot: NetSnapshot): Map<bigint, NetbytesResult> {
    return this.slots.next(snapshot.cgroupBySlot, snapshot.totals, new Map<number, never>());
  }
}

function readSnapshot(targets: BpfMap, totalsMap: BpfMap): NetSnapshot {
  const cgroupBySlot = cgroupsBySlot(targets);
  return { cgroupBySlot, totals: readSlotTotals(totalsMap, cgroupBySlot.keys(), (perCpu) => sumNetTotals(perCpu.map(decodeNetTotals))) };
}

export const netbytesKernel: ProbeDefinition<NetbytesResult> = {
  objectFile: 'netbytes.bpf.o',

  configure(obj: BpfObject) {
    obj.setMaxEntries('totals', obj.map(TARGETS_MAP).maxEntries);
  },

  /** Once, at the cgroup2 root: cgroup_skb programs there run for every descendant cgroup's sockets. */
  attach(obj) {
    const root = findCgroup2Mount().mountPoint;
    const links: BpfLink[] = [];
    try {
      for (const name of ['loupe_skb_egress', 'loupe_skb_ingress']) links.push(obj.program(name).attachCgroup(root));
    } catch (err) {
      for (const link of links) link.destroy();
      throw err;
    }
    return links;
  },

  reader(obj) {
    const targets = obj.map(TARGETS_MAP);
    const totals = obj.map('totals');
    const deltas = new NetDeltas();
    return {
      collect: () => deltas.next(readSnapshot(targets, totals)),
      close() {}, // no ring buffer: the maps go with the object
    };
  },
};
