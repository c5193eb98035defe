// Every probe this agent can load, by the name a TraceProfile uses: each
// registered probe's kernel side (probes/registry.ts).
import { PROBES, type OptionsOf, type ProbeName, type ResultOf } from '../../probes/registry.js';
import type { ProbeDefinition } from './probe.js';

/** Probe N's kernel side, typed by its name. */
export type KernelOf<N extends ProbeName> = ProbeDefinition<ResultOf<N>, OptionsOf<N>>;

export type ProbeCatalog = Readonly<{ [N in ProbeName]?: KernelOf<N> }>;

export const probeCatalog = Object.fromEntries(PROBES.map((p) => [p.name, p.kernel])) as Required<ProbeCatalog>;
