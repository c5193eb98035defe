// The runqlat probe: how long runnable threads wait for a CPU.
import { z } from 'zod';
import { histogramCount, LatencySummarySchema } from '../../api/histogram.js';
import { compactP99, formatCount, formatLatency, formatTop } from '../../api/probe-format.js';
import { topListSchema } from '../../api/top-list.js';
import { defineProbe, histogram, probeOptions, topListInstruments, TOP_ONLY } from '../probe-descriptor.js';
import { runqlatKernel } from './kernel.js';

const description = 'Run-queue latency (p50/p90/p99): how long runnable threads wait for a CPU, by thread name.';

export const RunqlatOptionsSchema = probeOptions('runqlat', {}).describe(description);

export const RunqlatResultSchema = z.object({
  latencyNs: LatencySummarySchema.describe('Time from wakeup (or preemption) to running on a CPU: run-queue latency.'),
  topCommands: topListSchema('Threads (comm) by run-queue waits.'),
});
export type RunqlatResult = z.infer<typeof RunqlatResultSchema>;

const metrics = {
  runqueueLatency: { name: 'loupe.runqlat.latency', unit: 'ns', description: 'Time runnable threads waited for a CPU (run-queue latency).' },
  runqueueCommandWaits: { name: 'loupe.runqlat.command.waits', unit: '{wait}', description: `Run-queue waits per thread name (process.executable.name). ${TOP_ONLY}` },
};

export const runqlat = defineProbe({
  name: 'runqlat',
  options: RunqlatOptionsSchema,
  result: RunqlatResultSchema,
  topLists: ['topCommands'],
  activity: (r) => histogramCount(r.latencyNs.histogram),
  headline: (r) => `runq${compactP99(r.latencyNs) || ' idle'}`,
  text: (r) => [
    `runqlat   ${formatCount(r.latencyNs.count)} waits, ${formatLatency('run-queue latency', r.latencyNs)}`,
    ...formatTop('top threads', r.topCommands),
  ],
  metrics,
  instruments: (r) => [
    histogram(metrics.runqueueLatency, r.latencyNs.histogram),
    ...topListInstruments(metrics.runqueueCommandWaits, undefined, r.topCommands, (k) => ({ 'process.executable.name': k })),
  ],
  kernel: runqlatKernel,
});
