// What one probe tells the rest of Loupe, in one object: its options (what
// admission checks), its result schema, how results merge and rank, what
// counts as its activity, its headline, its report text, its OTLP
// instruments and its kernel side. Generic code (merge, ranking, status
// budget, headline, OTLP, text, cost attribution) reads descriptors through
// probes/registry.ts and names no probe.
import { z } from 'zod';
import { mergeHistograms, summarizeLatency, type LatencySummary, type Log2Histogram } from '../api/histogram.js';
import { MAX_TOP_N, mergeTop, type RankedEntry } from '../api/top-list.js';
import type { ProbeDefinition } from '../engine/probes/probe.js';

/** An OTLP metric Loupe exports: names and units live with the probe that makes them. */
export interface MetricDefinition {
  name: string;
  unit: string;
  description: string;
}

export interface MetricPoint {
  value: number;
  attributes?: Record<string, string | number>;
}

/** One series of a histogram metric: its log2 histogram (values in ns) and attributes. */
export interface HistogramPoint {
  histogram: Log2Histogram;
  attributes?: Record<string, string | number>;
}

/**
 * One metric of a result, before any OTLP SDK type: a cumulative monotonic
 * sum, or log2 histograms of nanoseconds. A histogram metric in `ns` exports
 * as an exponential histogram at scale 0; one in `s` (the OpenTelemetry
 * semantic conventions' durations) as explicit buckets at 2^k ns in seconds.
 * Both are lossless.
 */
export type Instrument =
  | { kind: 'sum'; metric: MetricDefinition; points: MetricPoint[] }
  | { kind: 'histogram'; metric: MetricDefinition; points: HistogramPoint[] };

/** The fields of a result that hold top lists. */
export type TopListField<R> = { [K in keyof R]-?: R[K] extends readonly RankedEntry[] ? K : never }[keyof R] & string;

export interface ProbeDescriptor<N extends string = string, OS extends z.ZodObject = z.ZodObject, RS extends z.ZodObject = z.ZodObject> {
  readonly name: N;
  /** The options a TraceProfile may give the probe, `name` included: the CRD schema and admission are made of it. */
  readonly options: OS;
  /** What a node reports for one profile and the operator merges: bounded (maxItems, maxLength). */
  readonly result: RS;
  /**
   * Its top lists, the one shown first (and cut first by the status budget)
   * first. Every one is merged by summing per key and re-ranking.
   */
  readonly topLists: readonly [TopListField<z.output<RS>>, ...TopListField<z.output<RS>>[]];
  /**
   * A top list whose keys are folded stacks (`;`-separated, outermost frame
   * first) counted in the probe's activity: reports draw it as a flame graph,
   * kernel frames (names ending in kernelFrameSuffix) coloured apart.
   */
  readonly flameGraph?: { stacks: TopListField<z.output<RS>>; kernelFrameSuffix: string };
  /**
   * Results of intervals, cgroups, pods or nodes as one; with none, the zero
   * result. defineProbe derives it from the result schema (mergeBySchema).
   */
  merge(results: readonly z.output<RS>[]): z.output<RS>;
  /**
   * The events its programs saw and did work for (an exec, a syscall, a
   * sample): the one answer to "how busy". Pods rank by it on the node and
   * in the operator, and cost attribution divides the probe's CPU time by it.
   */
  activity(result: z.output<RS>): number;
  /** Its phrase in `kubectl get traceprofiles`' headline, e.g. "48k syscalls p99 3.1ms". */
  headline(result: z.output<RS>): string;
  /** Its lines in `loupe trace`'s report: totals, then its top lists. */
  text(result: z.output<RS>): string[];
  /** Every metric it exports, for the catalog and the README. */
  readonly metrics: Readonly<Record<string, MetricDefinition>>;
  /** Its metrics of one container's cumulative result. */
  instruments(result: z.output<RS>): Instrument[];
  /**
   * For a probe whose cost follows a rate a profile asks for (samples per
   * second): how to read and set that rate. A profile over its budget has
   * the rate lowered before any probe is dropped (agent/budget.ts).
   */
  readonly sampling?: {
    hz(options: z.output<OS>): number;
    withHz(options: z.output<OS>, hz: number): z.output<OS>;
  };
  /** The kernel side: its BPF object, how it attaches, its reader. */
  readonly kernel: ProbeDefinition<z.output<RS>, z.output<OS>>;
}

/** Type-checks a descriptor, keeps its literal types, and gives it the merge its result schema implies. */
export function defineProbe<const N extends string, OS extends z.ZodObject, RS extends z.ZodObject>(
  descriptor: Omit<ProbeDescriptor<N, OS, RS>, 'merge'>,
): ProbeDescriptor<N, OS, RS> {
  return { ...descriptor, merge: mergeBySchema(descriptor.result) };
}

/** What a result member is: a count, a latency summary (histogram and percentiles) or a top list. */
export type ResultMemberKind = 'count' | 'latency' | 'top';

export interface ResultMember {
  name: string;
  kind: ResultMemberKind;
  optional: boolean;
}

/** The members of a result schema, each with its kind; a member of another kind is a descriptor bug. */
export function resultMembers(result: z.ZodObject): ResultMember[] {
  return Object.entries(result.shape).map(([name, member]) => {
    const schema = member as z.ZodType;
    const optional = schema instanceof z.ZodOptional;
    const inner = optional ? (schema.unwrap() as z.ZodType) : schema;
    if (inner instanceof z.ZodNumber) return { name, kind: 'count', optional };
    if (inner instanceof z.ZodArray) return { name, kind: 'top', optional };
    if (inner instanceof z.ZodObject && 'histogram' in inner.shape) return { name, kind: 'latency', optional };
    throw new Error(`result member ${name}: no merge for this kind of member (a count, a latency summary or a top list)`);
  });
}

const MERGES: Record<ResultMemberKind, (values: readonly unknown[]) => unknown> = {
  count: (vs) => total(vs as number[], (v) => v),
  top: (vs) => mergeTop(...(vs as RankedEntry[][])),
  latency: (vs) => mergeLatency(vs as LatencySummary[]),
};

/**
 * The merge a result schema implies: counts sum, latency summaries merge
 * through their histograms, top lists sum per key and re-rank. An optional
 * member is kept only when every part has it (the profile probe's cpuNs: a
 * part without it sampled at an unknown rate, and a partial sum would be
 * wrong, not just incomplete).
 */
export function mergeBySchema<RS extends z.ZodObject>(result: RS): (results: readonly z.output<RS>[]) => z.output<RS> {
  const members = resultMembers(result).map((m) => ({ ...m, merge: MERGES[m.kind] }));
  return (results) => {
    const merged: Record<string, unknown> = {};
    for (const { name, merge, optional } of members) {
      const values = results.map((r) => (r as Record<string, unknown>)[name]);
      if (optional && values.some((v) => v === undefined)) continue;
      merged[name] = merge(values);
    }
    return merged as z.output<RS>;
  };
}

/** A probe's options: only its own, so an option under the wrong probe is an error, not silently ignored. */
export function probeOptions<N extends string, O extends z.ZodRawShape>(name: N, options: O) {
  return z.strictObject(
    { name: z.literal(name), ...options },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys' ? `${issue.keys.join(', ')}: not an option of the ${name} probe; remove it` : undefined,
    },
  );
}

/** A count in a result: a non-negative integer. */
export const count = z.number().int().min(0);

export function total<T>(results: readonly T[], field: (r: T) => number): number {
  return results.reduce((sum, r) => sum + field(r), 0);
}

/** Latency summaries merge through their histograms, never by averaging percentiles. */
export function mergeLatency(summaries: readonly LatencySummary[]): LatencySummary {
  return summarizeLatency(mergeHistograms(...summaries.map((s) => s.histogram)));
}

export const sum = (metric: MetricDefinition, ...points: MetricPoint[]): Instrument => ({ kind: 'sum', metric, points });
export const histogram = (metric: MetricDefinition, h: Log2Histogram, attributes?: HistogramPoint['attributes']): Instrument => ({
  kind: 'histogram',
  metric,
  points: [{ histogram: h, ...(attributes && { attributes }) }],
});
export const histograms = (metric: MetricDefinition, points: HistogramPoint[]): Instrument => ({ kind: 'histogram', metric, points });

/** One point per direction: bytes or packets sent and received, under one metric. */
export function directions(attribute: string, out: number, into: number, outName: string, inName: string): MetricPoint[] {
  return [
    { value: out, attributes: { [attribute]: outName } },
    { value: into, attributes: { [attribute]: inName } },
  ];
}

/**
 * Count and error series of a top list, one point per key; a list without
 * errors yields no error metric. Lists come sorted and cut to the profile's
 * N; the cap guards cardinality if one is not.
 */
export function topListInstruments(
  counts: MetricDefinition,
  errors: MetricDefinition | undefined,
  entries: readonly RankedEntry[],
  attributesOf: (key: string) => Record<string, string | number>,
): Instrument[] {
  const top = entries.slice(0, MAX_TOP_N);
  if (top.length === 0) return [];
  const instruments = [sum(counts, ...top.map((e) => ({ value: e.count, attributes: attributesOf(e.key) })))];
  const withErrors = top.filter((e) => e.errors !== undefined);
  if (errors !== undefined && withErrors.length > 0) {
    instruments.push(sum(errors, ...withErrors.map((e) => ({ value: e.errors ?? 0, attributes: attributesOf(e.key) }))));
  }
  return instruments;
}

/** The sentence every per-key metric's description ends with. */
export const TOP_ONLY = `Only the profile's top-N keys (at most ${MAX_TOP_N}) have points.`;
