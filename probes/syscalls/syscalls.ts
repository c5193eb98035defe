// The syscalls probe: syscall counts, errors and latency, by syscall name.
import { z } from 'zod';
import { LatencySummarySchema } from '../../api/histogram.js';
import { compactCount, compactFailed, compactP99, formatCount, formatLatency, formatTop } from '../../api/probe-format.js';
import { topListSchema } from '../../api/top-list.js';
import { count, defineProbe, histogram, probeOptions, sum, topListInstruments, TOP_ONLY } from '../probe-descriptor.js';
import { syscallsKernel } from './kernel.js';
import { KNOWN_SYSCALL_NAMES } from './syscall-names.js';

const description = 'Syscall counts, errors and latency (p50/p90/p99), top syscalls by name.';

export const SyscallsOptionsSchema = probeOptions('syscalls', {
  only: z
    .array(
      z.enum(KNOWN_SYSCALL_NAMES, {
        error: (issue) => `unknown syscall ${JSON.stringify(issue.input)}; names are Linux's on x86_64 or arm64, e.g. openat`,
      }),
    )
    .min(1)
    .max(64)
    .optional()
    .describe(
      'Trace only these syscalls, by name (e.g. read, openat); all syscalls when omitted. A name of x86_64 or arm64 ' +
        'Linux; a node whose architecture lacks it (open on arm64) reports it in the NodeTracePlan.',
    ),
}).describe(description);
export type SyscallsOptions = z.infer<typeof SyscallsOptionsSchema>;

export const SyscallsResultSchema = z.object({
  calls: count,
  errors: count.describe('Calls that returned a negative errno.'),
  latencyNs: LatencySummarySchema.describe('Time from sys_enter to sys_exit, all syscalls.'),
  topSyscalls: topListSchema('Most called syscalls by name.'),
});
export type SyscallsResult = z.infer<typeof SyscallsResultSchema>;

const metrics = {
  syscalls: { name: 'loupe.syscalls.calls', unit: '{call}', description: 'System calls.' },
  syscallErrors: { name: 'loupe.syscalls.errors', unit: '{call}', description: 'System calls that returned a negative errno.' },
  syscallDuration: { name: 'loupe.syscalls.duration', unit: 'ns', description: 'Time from sys_enter to sys_exit, all system calls.' },
  syscallCalls: { name: 'loupe.syscalls.syscall.calls', unit: '{call}', description: `Calls per system call (loupe.syscall.name). ${TOP_ONLY}` },
  syscallCallErrors: { name: 'loupe.syscalls.syscall.errors', unit: '{call}', description: `Failed calls per system call (loupe.syscall.name). ${TOP_ONLY}` },
};

export const syscalls = defineProbe({
  name: 'syscalls',
  options: SyscallsOptionsSchema,
  result: SyscallsResultSchema,
  topLists: ['topSyscalls'],
  activity: (r) => r.calls,
  headline: (r) => `${compactCount(r.calls)} syscalls${compactP99(r.latencyNs)}${compactFailed(r.errors)}`,
  text: (r) => [
    `syscalls  ${formatCount(r.calls)} calls, ${formatCount(r.errors)} errors, ${formatLatency('latency', r.latencyNs)}`,
    ...formatTop('top syscalls', r.topSyscalls),
  ],
  metrics,
  instruments: (r) => [
    sum(metrics.syscalls, { value: r.calls }),
    sum(metrics.syscallErrors, { value: r.errors }),
    histogram(metrics.syscallDuration, r.latencyNs.histogram),
    ...topListInstruments(metrics.syscallCalls, metrics.syscallCallErrors, r.topSyscalls, (k) => ({ 'loupe.syscall.name': k })),
  ],
  kernel: syscallsKernel,
});
