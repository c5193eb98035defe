// Per-probe results: what a node reports for one profile (NodeTracePlan
// status), what the operator merges into TraceProfile status, and what
// `loupe trace` prints. One optional field per probe, each the schema its
// descriptor (probes/<name>/) declares: mergeable (sums, log2 histograms,
// top-N lists re-ranked on merge) and bounded (maxItems, maxLength).
import { z } from 'zod';
import { PROBE_NAMES, PROBES, type ProbeName } from '../probes/registry.js';

export const ProbeNameSchema = z.enum(PROBE_NAMES as [ProbeName, ...ProbeName[]]);

type ResultShape = { [N in ProbeName]: z.ZodOptional<Extract<(typeof PROBES)[number], { name: N }>['result']> };

export const ProbeResultsSchema = z.object(
  Object.fromEntries(PROBES.map((p) => [p.name, p.result.optional()])) as ResultShape,
);
export type ProbeResults = z.infer<typeof ProbeResultsSchema>;
