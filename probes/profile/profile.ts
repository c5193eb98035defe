// The profile probe: on-CPU stack sampling, by hottest function and stack;
// full profiles as pprof from the node agent (download.ts).
import { z } from 'zod';
import { compactCount, compactNanoseconds, formatCount, formatNs, formatTop } from '../../api/probe-format.js';
import { CPU_NS_DESCRIPTION, MAX_TOP_N, timedTopListSchema } from '../../api/top-list.js';
import { count, defineProbe, probeOptions, sum, topListInstruments, TOP_ONLY } from '../probe-descriptor.js';
import { createProfileProbe, DEFAULT_PROFILE_FREQUENCY_HZ, MAX_PROFILE_FREQUENCY_HZ } from './kernel.js';
import { KERNEL_FRAME_SUFFIX } from './stacks.js';

const description = 'On-CPU stack samples (user and kernel), by hottest function and stack; pprof download.';

export const ProfileOptionsSchema = probeOptions('profile', {
  // No schema default: the CRD merges the variants into one object, where a
  // default would land on every probe and fail its "only beside profile" rule.
  frequency: z
    .number()
    .int()
    .min(1)
    .max(MAX_PROFILE_FREQUENCY_HZ)
    .optional()
    .describe(
      'Stack samples per second on each CPU, 19 when omitted. The probe is loaded once per node and shared by ' +
        'every profile there, so they all sample at one rate.',
    ),
}).describe(description);
export type ProfileOptions = z.infer<typeof ProfileOptionsSchema>;

/**
 * The sampling rate is per node and can change mid-run (a profile asking for
 * more, a budget widening it), so a sample stands for a different CPU time on
 * different nodes and intervals: only `cpuNs`, each sample weighted by the
 * period in force when it was taken, adds up across them. `count` stays the
 * number of samples and is never turned into time with one period.
 */
export const ProfileResultSchema = z.object({
  samples: count.describe('On-CPU stack samples of the pods\' threads: a count, taken at whatever rate each node sampled; see cpuNs for time.'),
  cpuNs: count.describe(CPU_NS_DESCRIPTION).optional(),
  topFrames: timedTopListSchema('Leaf ("self") functions by CPU time, as "function (module)"; [unknown] when the module has no symbols.'),
  topStacks: timedTopListSchema('Whole stacks by CPU time, folded (command;outermost;…;leaf, kernel frames marked _[k]), cut at the root end.'),
});
export type ProfileResult = z.infer<typeof ProfileResultSchema>;

const metrics = {
  profileSamples: { name: 'loupe.profile.samples', unit: '{sample}', description: 'On-CPU stack samples, at the rate the node sampled at when each was taken (it can change): a count, not a time.' },
  profileCpuTime: { name: 'loupe.profile.cpu.time', unit: 'ns', description: 'On-CPU time of the sampled threads: each sample weighted by the sampling period in force when it was taken.' },
  functionSamples: { name: 'loupe.profile.function.samples', unit: '{sample}', description: `Samples per leaf function (code.function.name: "function (module)"). ${TOP_ONLY}` },
  functionCpuTime: { name: 'loupe.profile.function.cpu.time', unit: 'ns', description: `On-CPU time per leaf function (code.function.name: "function (module)"). ${TOP_ONLY}` },
};

export const profile = defineProbe({
  name: 'profile',
  options: ProfileOptionsSchema,
  result: ProfileResultSchema,
  topLists: ['topFrames', 'topStacks'],
  flameGraph: { stacks: 'topStacks', kernelFrameSuffix: KERNEL_FRAME_SUFFIX },
  activity: (r) => r.samples,
  // Time, where every node reported it: samples taken at different rates do not compare.
  headline: (r) => (r.cpuNs === undefined ? `${compactCount(r.samples)} CPU samples` : `${compactNanoseconds(r.cpuNs)} on CPU`),
  text: (r) => [
    `profile   ${formatCount(r.samples)} on-CPU samples${r.cpuNs === undefined ? '' : `, ${formatNs(r.cpuNs)} on CPU`}`,
    ...formatTop('hottest functions', r.topFrames),
  ],
  metrics,
  instruments: (r) => {
    const timed = r.topFrames.slice(0, MAX_TOP_N).filter((e) => e.cpuNs !== undefined);
    return [
      sum(metrics.profileSamples, { value: r.samples }),
      ...(r.cpuNs === undefined ? [] : [sum(metrics.profileCpuTime, { value: r.cpuNs })]),
      ...topListInstruments(metrics.functionSamples, undefined, r.topFrames, (k) => ({ 'code.function.name': k })),
      ...(timed.length === 0
        ? []
        : [sum(metrics.functionCpuTime, ...timed.map((e) => ({ value: e.cpuNs ?? 0, attributes: { 'code.function.name': e.key } })))]),
    ];
  },
  sampling: {
    hz: (options) => options.frequency ?? DEFAULT_PROFILE_FREQUENCY_HZ,
    withHz: (options, hz) => ({ ...options, frequency: hz }),
  },
  // Samples at DEFAULT_PROFILE_FREQUENCY_HZ; createProfileProbe makes one at another rate.
  kernel: createProfileProbe(),
});
