// The files probe: file opens and their failures, by path.
import { z } from 'zod';
import { compactCount, compactFailed, formatCount, formatTop } from '../../api/probe-format.js';
import { topListSchema } from '../../api/top-list.js';
import { count, defineProbe, probeOptions, sum, topListInstruments, TOP_ONLY } from '../probe-descriptor.js';
import { filesKernel } from './kernel.js';

const description = 'File opens (open, openat, openat2) and their failures, by path.';

export const FilesOptionsSchema = probeOptions('files', {
  pathPrefixes: z
    .array(z.string().max(256).regex(/^\//, { error: 'path prefixes are absolute paths, e.g. /etc' }))
    .min(1)
    .max(16)
    .optional()
    .describe('Count only opens of paths starting with one of these prefixes; all paths when omitted.'),
}).describe(description);
export type FilesOptions = z.infer<typeof FilesOptionsSchema>;

export const FilesResultSchema = z.object({
  opens: count.describe('open/openat/openat2 calls.'),
  errors: count.describe('Opens that failed.'),
  topPaths: topListSchema('Most opened paths, with failures in errors.'),
});
export type FilesResult = z.infer<typeof FilesResultSchema>;

const metrics = {
  opens: { name: 'loupe.files.opens', unit: '{open}', description: 'open/openat/openat2 calls.' },
  openErrors: { name: 'loupe.files.errors', unit: '{open}', description: 'Opens that failed.' },
  pathOpens: { name: 'loupe.files.path.opens', unit: '{open}', description: `Opens per path (file.path), failed ones included. ${TOP_ONLY}` },
  pathErrors: { name: 'loupe.files.path.errors', unit: '{open}', description: `Failed opens per path (file.path). ${TOP_ONLY}` },
};

export const files = defineProbe({
  name: 'files',
  options: FilesOptionsSchema,
  result: FilesResultSchema,
  topLists: ['topPaths'],
  activity: (r) => r.opens,
  headline: (r) => `${compactCount(r.opens)} opens${compactFailed(r.errors)}`,
  text: (r) => [`files     ${formatCount(r.opens)} opens, ${formatCount(r.errors)} failed`, ...formatTop('top paths', r.topPaths)],
  metrics,
  instruments: (r) => [
    sum(metrics.opens, { value: r.opens }),
    sum(metrics.openErrors, { value: r.errors }),
    ...topListInstruments(metrics.pathOpens, metrics.pathErrors, r.topPaths, (k) => ({ 'file.path': k })),
  ],
  kernel: filesKernel,
});
