// tcp.h's struct tcp_event → a checked TcpEvent with printable
// endpoints, and per-cgroup aggregation of events and retransmit counters
// into TcpResults.
import { z } from 'zod';
import type { TcpResult } from './tcp.js';
import { HISTOGRAM_BUCKETS, histogramFromCounts, log2Bucket, summarizeLatency } from '../../api/histogram.js';
import { decodeStruct } from '../../engine/probes/kernel-decode.js';
import { layouts } from './layout.generated.js';
import { TopList } from '../../engine/probes/top-list.js';

const EVENT = layouts.tcp_event;
export const TCP_EVENT_SIZE = EVENT.size;
const AF_INET = 2;
const AF_INET6 = 10;
const KINDS = { 1: 'connect', 2: 'connect_failed', 3: 'accept', 4: 'close' } as const;

/** RFC 5952 text of an IPv6 address; IPv4-mapped addresses print as IPv4. */
export function formatIPv6(bytes: Uint8Array): string {
  const mappedPrefix = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
  if (mappedPrefix.every((b, i) => bytes[i] === b)) return formatIPv4(bytes.subarray(12, 16));
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  // The longest run of two or more zero groups (the first if tied) becomes "::".
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function formatIPv4(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4)).join('.');
}

/** "1.2.3.4:80" or "[::1]:80", as topPeers keys read. */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

const u64 = z.bigint().min(0n);
const port = z.number().int().min(0).max(0xffff);

export const TcpEventSchema = z.object({
  cgroupId: u64,
  profiles: u64,
  timeNs: u64,
  durationNs: u64,
  bytesAcked: u64.transform(Number),
  bytesReceived: u64.transform(Number),
  kind: z.literal([1, 2, 3, 4]).transform((k) => KINDS[k]),
  pid: z.number().int().min(0),
  family: z.union([z.literal(AF_INET), z.literal(AF_INET6)]).transform((f) => (f === AF_INET ? 'ipv4' : 'ipv6')),
  localAddress: z.string(),
  localPort: port,
  remoteAddress: z.string(),
  remotePort: port,
});
export type TcpEvent = z.output<typeof TcpEventSchema>;

export function decodeTcpEvent(buf: Buffer): TcpEvent {
  const c = decodeStruct(buf, EVENT);
  const address = (bytes: Buffer) => (c.family === AF_INET ? formatIPv4(bytes.subarray(0, 4)) : formatIPv6(bytes));
  return TcpEventSchema.parse({
    ...c,
    localPort: c.sport,
    remotePort: c.dport,
    localAddress: address(c.saddr),
    remoteAddress: address(c.daddr),
  });
}

/** Flat OpenTelemetry-style attributes of one event. */
export function tcpEventAttributes(e: TcpEvent): Record<string, string | number> {
  const attributes: Record<string, string | number> = {
    'loupe.event': e.kind,
    'process.pid': e.pid,
    'network.transport': 'tcp',
    'network.type': e.family,
    'network.local.address': e.localAddress,
    'network.local.port': e.localPort,
    'network.peer.address': e.remoteAddress,
    'network.peer.port': e.remotePort,
  };
  if (e.kind === 'close') {
    attributes['loupe.tcp.duration_ns'] = Number(e.durationNs);
    attributes['loupe.tcp.bytes_sent'] = e.bytesAcked;
    attributes['loupe.tcp.bytes_received'] = e.bytesReceived;
  }
  return attributes;
}

/** A log2 histogram being counted: the zero bucket and slot k = ceil(log2 v). */
interface SlotCounts {
  zero: number;
  slots: number[];
}

const slotCounts = (): SlotCounts => ({ zero: 0, slots: new Array<number>(HISTOGRAM_BUCKETS).fill(0) });

function countNs(counts: SlotCounts, ns: number | bigint): void {
  const slot = log2Bucket(ns);
  if (slot < 0) counts.zero++;
  else counts.slots[slot] = (counts.slots[slot] ?? 0) + 1;
}

interface CgroupTally {
  connects: number;
  connectFailures: number;
  accepts: number;
  closed: number;
  bytesSent: number;
  bytesReceived: number;
  retransmits: number;
  connectLatency: SlotCounts;
  duration: SlotCounts;
  /** Outgoing connections by remote endpoint; accepted ones would list client ephemeral ports. */
  peers: TopList;
}

/** Events and retransmit counts since the last drain, per cgroup. */
export class TcpAggregator {
  private tallies = new Map<bigint, CgroupTally>();

  private tallyOf(cgroupId: bigint): CgroupTally {
    let t = this.tallies.get(cgroupId);
    if (!t) {
      t = {
        connects: 0,
        connectFailures: 0,
        accepts: 0,
        closed: 0,
        bytesSent: 0,
        bytesReceived: 0,
        retransmits: 0,
        connectLatency: slotCounts(),
        duration: slotCounts(),
        peers: new TopList(true),
      };
      this.tallies.set(cgroupId, t);
    }
    return t;
  }

  add(e: TcpEvent): void {
    const t = this.tallyOf(e.cgroupId);
    const peer = formatEndpoint(e.remoteAddress, e.remotePort);
    switch (e.kind) {
      case 'connect':
        t.connects++;
        countNs(t.connectLatency, e.durationNs);
        t.peers.add(peer, 1, 0);
        break;
      case 'connect_failed':
        t.connectFailures++;
        t.peers.add(peer, 1, 1);
        break;
      case 'accept':
        t.accepts++;
        break;
      case 'close': {
        t.closed++;
        t.bytesSent += e.bytesAcked;
        t.bytesReceived += e.bytesReceived;
        countNs(t.duration, e.durationNs);
        break;
      }
    }
  }

  addRetransmits(cgroupId: bigint, count: number): void {
    this.tallyOf(cgroupId).retransmits += count;
  }

  drain(): Map<bigint, TcpResult> {
    const results = new Map<bigint, TcpResult>();
    for (const [cgroupId, t] of this.tallies) {
      results.set(cgroupId, {
        connects: t.connects,
        connectFailures: t.connectFailures,
        accepts: t.accepts,
        closed: t.closed,
        bytesSent: t.bytesSent,
        bytesReceived: t.bytesReceived,
        retransmits: t.retransmits,
        connectLatencyNs: summarizeLatency(histogramFromCounts(t.connectLatency.zero, t.connectLatency.slots)),
        durationNs: summarizeLatency(histogramFromCounts(t.duration.zero, t.duration.slots)),
        topPeers: t.peers.entries(),
      });
    }
    this.tallies = new Map();
    return results;
  }
}
