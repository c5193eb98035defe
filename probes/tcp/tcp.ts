// The tcp probe: connections (connects with their latency, failures,
// accepts, closes with their bytes and lifetimes) and retransmits, by peer.
import { z } from 'zod';
import { LatencySummarySchema } from '../../api/histogram.js';
import { compactCount, compactFailed, formatBytes, formatCount, formatLatency, formatTop } from '../../api/probe-format.js';
import { topListSchema } from '../../api/top-list.js';
import { count, defineProbe, directions, histogram, probeOptions, sum, topListInstruments, TOP_ONLY } from '../probe-descriptor.js';
import { tcpKernel } from './kernel.js';

const description = 'TCP connects (latency), failed connects, accepts, closes (duration, bytes) and retransmits, by peer.';

export const TcpOptionsSchema = probeOptions('tcp', {}).describe(description);

export const TcpResultSchema = z.object({
  connects: count.describe('Outgoing connections that were established.'),
  connectFailures: count.describe('Outgoing connections that failed (refused, reset, timed out).'),
  connectLatencyNs: LatencySummarySchema.describe('Connect latency: connect() sending the SYN to the connection established, outgoing connections.'),
  accepts: count.describe('Incoming connections that were established.'),
  closed: count.describe('Connections closed after being established.'),
  bytesSent: count,
  bytesReceived: count,
  retransmits: count,
  durationNs: LatencySummarySchema.describe('Lifetime of closed connections.'),
  topPeers: topListSchema('Remote address:port by connections, failures in errors.'),
});
export type TcpResult = z.infer<typeof TcpResultSchema>;

const metrics = {
  tcpOutbound: { name: 'loupe.tcp.connections.outbound', unit: '{connection}', description: 'Outgoing connections that were established.' },
  tcpFailed: { name: 'loupe.tcp.connections.failed', unit: '{connection}', description: 'Outgoing connections that failed (refused, reset, timed out).' },
  tcpInbound: { name: 'loupe.tcp.connections.inbound', unit: '{connection}', description: 'Incoming connections that were established.' },
  tcpClosed: { name: 'loupe.tcp.connections.closed', unit: '{connection}', description: 'Connections closed after being established.' },
  tcpIo: { name: 'loupe.tcp.io', unit: 'By', description: 'Bytes sent (network.io.direction=transmit) and received (receive) on closed connections.' },
  tcpRetransmits: { name: 'loupe.tcp.retransmits', unit: '{segment}', description: 'Retransmitted TCP segments.' },
  tcpDuration: { name: 'loupe.tcp.connection.duration', unit: 'ns', description: 'Lifetime of closed connections.' },
  tcpConnectDuration: { name: 'loupe.tcp.connect.duration', unit: 'ns', description: 'Connect latency: connect() sending the SYN to the connection established.' },
  peerConnections: { name: 'loupe.tcp.peer.connections', unit: '{connection}', description: `Outgoing connection attempts per peer (network.peer.address, network.peer.port). ${TOP_ONLY}` },
  peerFailures: { name: 'loupe.tcp.peer.failures', unit: '{connection}', description: `Failed outgoing connections per peer. ${TOP_ONLY}` },
};

/** "1.2.3.4:80" or "[::1]:80" (topPeers keys) → network.peer.address and .port. */
export function peerAttributes(key: string): Record<string, string | number> {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(key);
  return match ? { 'network.peer.address': match[1]!, 'network.peer.port': Number(match[2]) } : { 'network.peer.address': key };
}

export const tcp = defineProbe({
  name: 'tcp',
  options: TcpOptionsSchema,
  result: TcpResultSchema,
  topLists: ['topPeers'],
  activity: (r) => r.connects + r.connectFailures + r.accepts + r.closed + r.retransmits,
  headline: (r) => `${compactCount(r.connects + r.accepts)} conns${compactFailed(r.connectFailures)}`,
  text: (r) => [
    `tcp       ${formatCount(r.connects)} connects (${formatCount(r.connectFailures)} failed), ${formatCount(r.accepts)} accepts, ` +
      `${formatCount(r.closed)} closed, ${formatCount(r.retransmits)} retransmits`,
    `          ${formatLatency('connect', r.connectLatencyNs)}`,
    `          sent ${formatBytes(r.bytesSent)}, received ${formatBytes(r.bytesReceived)}, ${formatLatency('lifetime', r.durationNs)}`,
    ...formatTop('top peers', r.topPeers),
  ],
  metrics,
  instruments: (r) => [
    sum(metrics.tcpOutbound, { value: r.connects }),
    sum(metrics.tcpFailed, { value: r.connectFailures }),
    sum(metrics.tcpInbound, { value: r.accepts }),
    sum(metrics.tcpClosed, { value: r.closed }),
    sum(metrics.tcpIo, ...directions('network.io.direction', r.bytesSent, r.bytesReceived, 'transmit', 'receive')),
    sum(metrics.tcpRetransmits, { value: r.retransmits }),
    histogram(metrics.tcpConnectDuration, r.connectLatencyNs.histogram),
    histogram(metrics.tcpDuration, r.durationNs.histogram),
    ...topListInstruments(metrics.peerConnections, metrics.peerFailures, r.topPeers, peerAttributes),
  ],
  kernel: tcpKernel,
});
