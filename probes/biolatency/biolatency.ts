// The biolatency probe: block I/O requests, bytes, errors and latency, by device.
import { z } from 'zod';
import { LatencySummarySchema } from '../../api/histogram.js';
import { compactCount, compactFailed, compactP99, formatBytes, formatCount, formatLatency, formatTop } from '../../api/probe-format.js';
import { topListSchema } from '../../api/top-list.js';
import { count, defineProbe, directions, histogram, probeOptions, sum, topListInstruments, TOP_ONLY } from '../probe-descriptor.js';
import { biolatencyKernel } from './kernel.js';

const description = 'Block I/O requests, bytes, errors and latency (p50/p90/p99) of direct and synchronous I/O, by device.';

export const BiolatencyOptionsSchema = probeOptions('biolatency', {}).describe(description);

export const BiolatencyResultSchema = z.object({
  ios: count.describe('Block I/O requests completed.'),
  errors: count.describe('Requests that completed with an error.'),
  bytesRead: count,
  bytesWritten: count,
  latencyNs: LatencySummarySchema.describe('Time from submission (a new request) to completion.'),
  topDevices: topListSchema('Block devices by requests, failures in errors.'),
});
export type BiolatencyResult = z.infer<typeof BiolatencyResultSchema>;

const metrics = {
  blockRequests: { name: 'loupe.biolatency.requests', unit: '{request}', description: 'Block I/O requests completed.' },
  blockErrors: { name: 'loupe.biolatency.errors', unit: '{request}', description: 'Block I/O requests that completed with an error.' },
  blockIo: { name: 'loupe.biolatency.io', unit: 'By', description: 'Bytes read (disk.io.direction=read) and written (write).' },
  blockDuration: { name: 'loupe.biolatency.duration', unit: 'ns', description: 'Time from submission to completion of block I/O requests.' },
  deviceRequests: { name: 'loupe.biolatency.device.requests', unit: '{request}', description: `Block I/O requests per device (system.device). ${TOP_ONLY}` },
  deviceErrors: { name: 'loupe.biolatency.device.errors', unit: '{request}', description: `Failed block I/O requests per device (system.device). ${TOP_ONLY}` },
};

export const biolatency = defineProbe({
  name: 'biolatency',
  options: BiolatencyOptionsSchema,
  result: BiolatencyResultSchema,
  topLists: ['topDevices'],
  activity: (r) => r.ios,
  headline: (r) => `${compactCount(r.ios)} I/Os${compactP99(r.latencyNs)}${compactFailed(r.errors)}`,
  text: (r) => [
    `biolatency ${formatCount(r.ios)} I/Os (${formatCount(r.errors)} failed), read ${formatBytes(r.bytesRead)}, ` +
      `written ${formatBytes(r.bytesWritten)}, ${formatLatency('latency', r.latencyNs)}`,
    ...formatTop('top devices', r.topDevices),
  ],
  metrics,
  instruments: (r) => [
    sum(metrics.blockRequests, { value: r.ios }),
    sum(metrics.blockErrors, { value: r.errors }),
    sum(metrics.blockIo, ...directions('disk.io.direction', r.bytesRead, r.bytesWritten, 'read', 'write')),
    histogram(metrics.blockDuration, r.latencyNs.histogram),
    ...topListInstruments(metrics.deviceRequests, metrics.deviceErrors, r.topDevices, (k) => ({ 'system.device': k })),
  ],
  kernel: biolatencyKernel,
});
