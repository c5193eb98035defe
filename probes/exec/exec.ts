// The exec probe: process executions and exits, by program.
import { z } from 'zod';
import { compactCount, formatCount, formatTop } from '../../api/probe-format.js';
import { topListSchema } from '../../api/top-list.js';
import { count, defineProbe, probeOptions, sum, topListInstruments, TOP_ONLY } from '../probe-descriptor.js';
import { execKernel } from './kernel.js';

const description = 'Process executions (by program path) and exits.';

export const ExecOptionsSchema = probeOptions('exec', {}).describe(description);

export const ExecResultSchema = z.object({
  execs: count.describe('Successful execve/execveat calls.'),
  exits: count.describe('Processes that exited.'),
  topCommands: topListSchema('Most executed programs (filename), by count.'),
});
export type ExecResult = z.infer<typeof ExecResultSchema>;

const metrics = {
  execs: { name: 'loupe.exec.execs', unit: '{exec}', description: 'Successful execve/execveat calls.' },
  exits: { name: 'loupe.exec.exits', unit: '{exit}', description: 'Processes that exited.' },
  commandExecs: { name: 'loupe.exec.command.execs', unit: '{exec}', description: `Execs per program (process.executable.path). ${TOP_ONLY}` },
};

export const exec = defineProbe({
  name: 'exec',
  options: ExecOptionsSchema,
  result: ExecResultSchema,
  topLists: ['topCommands'],
  activity: (r) => r.execs + r.exits,
  headline: (r) => `${compactCount(r.execs)} execs`,
  text: (r) => [`exec      ${formatCount(r.execs)} execs, ${formatCount(r.exits)} exits`, ...formatTop('top commands', r.topCommands)],
  metrics,
  instruments: (r) => [
    sum(metrics.execs, { value: r.execs }),
    sum(metrics.exits, { value: r.exits }),
    ...topListInstruments(metrics.commandExecs, undefined, r.topCommands, (k) => ({ 'process.executable.path': k })),
  ],
  kernel: execKernel,
});
