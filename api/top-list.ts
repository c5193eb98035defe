// Top-N lists, the one shape every probe ranks keys in (commands, paths,
// peers, functions): the schema, and how lists merge, rank and are cut.
// Pure, so the agent and the operator rank the same way: count and errors
// sum per key and lists are re-ranked after every merge. Entries may carry
// CPU time (cpuNs, the profile probe's): samples are taken at rates that
// differ between nodes and over time, so such lists rank and add by time.
// Entries may also carry a latency histogram (latencyNs), which merges by
// histogram wherever entries sum.
import { z } from 'zod';
import { Log2HistogramSchema, mergeHistograms } from './histogram.js';

/** Hard ceiling on any top-N list; `output.status.topN` picks at most this. */
export const MAX_TOP_N = 50;
const count = z.number().int().min(0);

export const TopEntrySchema = z.object({
  key: z.string().max(256).describe('What is counted: a command, a path, a syscall, a peer.'),
  count,
  errors: count.optional(),
});
export type TopEntry = z.infer<typeof TopEntrySchema>;

/** A probe result's top list, described for the CRD and the README. */
export const topListSchema = (description: string) => z.array(TopEntrySchema).max(MAX_TOP_N).describe(description);

export const CPU_NS_DESCRIPTION =
  'On-CPU time in nanoseconds: each sample weighted by the sampling period in force when it was taken. Absent when a node did not report it.';
export const TimedTopEntrySchema = TopEntrySchema.extend({ cpuNs: count.describe(CPU_NS_DESCRIPTION).optional() });
export type TimedTopEntry = z.infer<typeof TimedTopEntrySchema>;

/** A top list ranked by CPU time (where every entry has it). */
export const timedTopListSchema = (description: string) => z.array(TimedTopEntrySchema).max(MAX_TOP_N).describe(description);

export const LatencyTopEntrySchema = TopEntrySchema.extend({
  latencyNs: Log2HistogramSchema.describe('Latency of what the entry counts, in nanoseconds.').optional(),
});
export type LatencyTopEntry = z.infer<typeof LatencyTopEntrySchema>;

/** A top list whose entries carry a latency histogram each. */
export const latencyTopListSchema = (description: string) => z.array(LatencyTopEntrySchema).max(MAX_TOP_N).describe(description);

/** Key of the entry that stands for the keys a folded top list dropped. */
export const OTHER_TOP_KEY = '(other)';

/** An entry of any top list; only timed lists' carry cpuNs, only latency lists' latencyNs. */
export type RankedEntry = TopEntry & Pick<TimedTopEntry, 'cpuNs'> & Pick<LatencyTopEntry, 'latencyNs'>;

/** Adds b's errors and latency into a (count, cpuNs: by the caller). */
function addDetail(a: RankedEntry, b: RankedEntry): void {
  if (b.errors !== undefined) a.errors = (a.errors ?? 0) + b.errors;
  if (b.latencyNs !== undefined) a.latencyNs = a.latencyNs === undefined ? b.latencyNs : mergeHistograms(a.latencyNs, b.latencyNs);
}

/**
 * Highest CPU time first where entries have it, else highest count; ties by
 * errors, then key, so merges are deterministic. OTHER_TOP_KEY last whatever
 * its count: summed over many lists it easily outgrows every key, but it is
 * the remainder, not a key to rank.
 */
function byRank(a: RankedEntry, b: RankedEntry): number {
  return (
    Number(a.key === OTHER_TOP_KEY) - Number(b.key === OTHER_TOP_KEY) ||
    (a.cpuNs !== undefined && b.cpuNs !== undefined ? b.cpuNs - a.cpuNs : 0) ||
    b.count - a.count ||
    (b.errors ?? 0) - (a.errors ?? 0) ||
    (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  );
}

/**
 * Sums count, errors, cpuNs and latency histograms per key over all lists; the result is ranked
 * and complete. cpuNs is kept only when every entry has it (a node from before
 * it has samples at an unknown rate): a list ranked partly by time and partly
 * by count would rank neither way.
 */
export function mergeTop(...lists: readonly (readonly RankedEntry[])[]): RankedEntry[] {
  const timed = lists.every((list) => list.every((e) => e.cpuNs !== undefined));
  const byKey = new Map<string, RankedEntry>();
  for (const list of lists) {
    for (const { cpuNs, ...e } of list) {
      const seen = byKey.get(e.key);
      if (seen === undefined) {
        byKey.set(e.key, timed ? { ...e, cpuNs } : e);
        continue;
      }
      seen.count += e.count;
      addDetail(seen, e);
      if (timed) seen.cpuNs = (seen.cpuNs ?? 0) + (cpuNs ?? 0);
    }
  }
  return [...byKey.values()].sort(byRank);
}

/** The n highest-ranked entries. */
export function boundTop(list: readonly RankedEntry[], n: number): RankedEntry[] {
  return [...list].sort(byRank).slice(0, Math.max(0, n));
}

/**
 * At most n entries, the lowest-ranked folded into one OTHER_TOP_KEY entry
 * (last) so totals stay right: bounds memory where a complete list could grow
 * without end.
 */
export function foldTop(list: readonly RankedEntry[], n: number): RankedEntry[] {
  const ranked = mergeTop(list); // an OTHER_TOP_KEY entry from an earlier fold is last, and folds again
  if (ranked.length <= n) return ranked;
  const other: RankedEntry = { key: OTHER_TOP_KEY, count: 0 };
  for (const e of ranked.slice(n - 1)) {
    other.count += e.count;
    addDetail(other, e);
    if (e.cpuNs !== undefined) other.cpuNs = (other.cpuNs ?? 0) + e.cpuNs;
  }
  return [...ranked.slice(0, n - 1), other];
}
