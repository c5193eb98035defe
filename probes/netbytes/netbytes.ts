// The netbytes probe: IP bytes and packets the pods' sockets send and receive, by protocol.
import { z } from 'zod';
import { compactCount, formatBytes, formatCount, formatTop } from '../../api/probe-format.js';
import { topListSchema } from '../../api/top-list.js';
import { count, defineProbe, directions, probeOptions, sum, topListInstruments, TOP_ONLY } from '../probe-descriptor.js';
import { netbytesKernel } from './kernel.js';

const description = 'IP bytes and packets sent and received by the pods’ sockets, by protocol.';

export const NetbytesOptionsSchema = probeOptions('netbytes', {}).describe(description);

export const NetbytesResultSchema = z.object({
  bytesSent: count.describe('IP bytes sent (headers included).'),
  bytesReceived: count.describe('IP bytes received (headers included).'),
  packetsSent: count,
  packetsReceived: count,
  topProtocols: topListSchema('IP protocols (tcp, udp, icmp, other) by packets, both directions.'),
});
export type NetbytesResult = z.infer<typeof NetbytesResultSchema>;

const metrics = {
  ipIo: { name: 'loupe.netbytes.io', unit: 'By', description: 'IP bytes, headers included, sent (network.io.direction=transmit) and received (receive).' },
  ipPackets: { name: 'loupe.netbytes.packets', unit: '{packet}', description: 'IP packets sent (network.io.direction=transmit) and received (receive).' },
  protocolPackets: { name: 'loupe.netbytes.protocol.packets', unit: '{packet}', description: `IP packets per protocol (network.transport: tcp, udp, icmp, …), both directions. ${TOP_ONLY}` },
};

export const netbytes = defineProbe({
  name: 'netbytes',
  options: NetbytesOptionsSchema,
  result: NetbytesResultSchema,
  topLists: ['topProtocols'],
  activity: (r) => r.packetsSent + r.packetsReceived,
  headline: (r) => `${compactCount(r.bytesSent + r.bytesReceived)}B net`,
  text: (r) => [
    `netbytes  sent ${formatBytes(r.bytesSent)} in ${formatCount(r.packetsSent)} packets, ` +
      `received ${formatBytes(r.bytesReceived)} in ${formatCount(r.packetsReceived)} packets`,
    ...formatTop('top protocols', r.topProtocols),
  ],
  metrics,
  instruments: (r) => [
    sum(metrics.ipIo, ...directions('network.io.direction', r.bytesSent, r.bytesReceived, 'transmit', 'receive')),
    sum(metrics.ipPackets, ...directions('network.io.direction', r.packetsSent, r.packetsReceived, 'transmit', 'receive')),
    ...topListInstruments(metrics.protocolPackets, undefined, r.topProtocols, (k) => ({ 'network.transport': k })),
  ],
  kernel: netbytesKernel,
});
