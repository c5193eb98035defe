// The oomkill probe: processes the kernel OOM killer chose, by command.
import { z } from 'zod';
import { compactCount, formatCount, formatTop } from '../../api/probe-format.js';
import { topListSchema } from '../../api/top-list.js';
import { count, defineProbe, probeOptions, sum, topListInstruments, TOP_ONLY } from '../probe-descriptor.js';
import { oomkillKernel } from './kernel.js';

const description = 'Processes killed by the kernel OOM killer, by command.';

export const OomkillOptionsSchema = probeOptions('oomkill', {}).describe(description);

export const OomkillResultSchema = z.object({
  kills: count.describe('Processes the kernel OOM killer chose as victims.'),
  topCommands: topListSchema('OOM-killed processes by command (comm).'),
});
export type OomkillResult = z.infer<typeof OomkillResultSchema>;

const metrics = {
  oomKills: { name: 'loupe.oomkill.kills', unit: '{process}', description: 'Processes the kernel OOM killer chose as victims.' },
  oomCommandKills: { name: 'loupe.oomkill.command.kills', unit: '{process}', description: `OOM kills per command (process.executable.name). ${TOP_ONLY}` },
};

export const oomkill = defineProbe({
  name: 'oomkill',
  options: OomkillOptionsSchema,
  result: OomkillResultSchema,
  topLists: ['topCommands'],
  activity: (r) => r.kills,
  headline: (r) => `${compactCount(r.kills)} OOM kills`,
  text: (r) => [`oomkill   ${formatCount(r.kills)} OOM kills`, ...formatTop('victims', r.topCommands)],
  metrics,
  instruments: (r) => [
    sum(metrics.oomKills, { value: r.kills }),
    ...topListInstruments(metrics.oomCommandKills, undefined, r.topCommands, (k) => ({ 'process.executable.name': k })),
  ],
  kernel: oomkillKernel,
});
