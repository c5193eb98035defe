// A profile's results over time, kept small enough for its status: at most
// TIMELINE_COLUMNS columns from the session's start, each holding what every
// latency histogram and every count gained in it. When the session outgrows
// the columns, neighbours merge in pairs and a column covers twice the time,
// so a 10-minute and a 10-hour session both fit. The writer (the operator, or
// `loupe trace`) feeds cumulative results; each column is the difference
// between two of them, so the columns of a series add up to its total.
// Heat maps (loupe report, loupe trace --heatmap) are drawn from it.
import { z } from 'zod';
import { descriptorOf, PROBE_NAMES } from '../probes/registry.js';
import { resultMembers } from '../probes/probe-descriptor.js';
import { HISTOGRAM_BUCKETS, type Log2Histogram, type LatencySummary } from './histogram.js';
import type { ProbeResults } from './results.js';

export const TIMELINE_COLUMNS = 60;
/** Below this many columns a timeline is not coarsened to fit a status budget. */
export const MIN_TIMELINE_COLUMNS = 15;

const count = z.number().int().min(0);

const LatencySeriesSchema = z.object({
  probe: z.string().max(32),
  member: z.string().max(64).describe('The latency member of the probe\'s result, e.g. latencyNs.'),
  first: z
    .number()
    .int()
    .min(-1)
    .max(HISTOGRAM_BUCKETS - 1)
    .describe('Histogram slot of every column\'s first count (-1: the zero bucket; k: (2^(k-1), 2^k] ns).'),
  columns: z
    .array(z.array(count).max(HISTOGRAM_BUCKETS + 1))
    .max(TIMELINE_COLUMNS)
    .describe('Per column, counts of slots first, first+1, …; trailing zeros trimmed, [] for a column with none.'),
});
export type LatencySeries = z.infer<typeof LatencySeriesSchema>;

const CountSeriesSchema = z.object({
  probe: z.string().max(32),
  member: z.string().max(64).describe('The count member of the probe\'s result, e.g. execs.'),
  columns: z.array(count).max(TIMELINE_COLUMNS),
});

export const TimelineSchema = z
  .object({
    startedAt: z.string().max(32).describe('Start of the first column (the session\'s start), RFC 3339.'),
    columnSeconds: z.number().int().min(1).describe('Time each column covers; doubles when the columns run out.'),
    columns: z.number().int().min(0).max(TIMELINE_COLUMNS).describe('Columns so far; every series has this many.'),
    latency: z.array(LatencySeriesSchema).max(64),
    counts: z.array(CountSeriesSchema).max(128),
  })
  .describe(`Results over time, at most ${TIMELINE_COLUMNS} columns: what each latency histogram and count gained in each column.`);
export type Timeline = z.infer<typeof TimelineSchema>;

/** A fresh timeline starting at startedAtMs whose columns span columnMs (rounded up to a second). */
export function emptyTimeline(startedAtMs: number, columnMs: number): Timeline {
  return {
    startedAt: new Date(startedAtMs).toISOString(),
    columnSeconds: Math.max(1, Math.ceil(columnMs / 1000)),
    columns: 0,
    latency: [],
    counts: [],
  };
}

/** Slot counts of a histogram as one array indexed from slot -1 (the zero bucket). */
function slots(h: Log2Histogram): number[] {
  return [h.zeroCount, ...h.buckets];
}

/** The column of a latency series as counts from slot -1. */
function columnSlots(series: LatencySeries, column: number): number[] {
  const counts = series.columns[column] ?? [];
  return counts.length === 0 ? [] : [...new Array<number>(series.first + 1).fill(0), ...counts];
}

/** Slot counts (from slot -1) as a series column relative to `first`, trailing zeros trimmed. */
function toColumn(fromZero: readonly number[], first: number): number[] {
  let end = fromZero.length;
  while (end > 0 && fromZero[end - 1] === 0) end--;
  return end <= first + 1 ? [] : fromZero.slice(first + 1, end);
}

function firstNonZero(fromZero: readonly number[]): number {
  const i = fromZero.findIndex((c) => c > 0);
  return i < 0 ? Number.POSITIVE_INFINITY : i - 1;
}

function addSlots(a: readonly number[], b: readonly number[]): number[] {
  return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => (a[i] ?? 0) + (b[i] ?? 0));
}

/** One series' gain between two cumulative results; a drop (an agent restarted) counts as nothing gained. */
function gain(previous: number, current: number): number {
  return Math.max(0, current - previous);
}

/** What one series gained between two cumulative results. */
interface Gain<T> {
  probe: string;
  member: string;
  added: T;
}

interface Gains {
  latency: Gain<number[]>[];
  counts: Gain<number>[];
}

const sameSeries = (a: { probe: string; member: string }, b: { probe: string; member: string }) => a.probe === b.probe && a.member === b.member;

function gainsBetween(previous: ProbeResults | undefined, current: ProbeResults): Gains {
  const gains: Gains = { latency: [], counts: [] };
  for (const probe of PROBE_NAMES) {
    const now = current[probe] as Record<string, unknown> | undefined;
    if (now === undefined) continue;
    const before = previous?.[probe] as Record<string, unknown> | undefined;
    for (const { name: member, kind } of resultMembers(descriptorOf(probe).result)) {
      if (kind === 'count' && typeof now[member] === 'number') {
        gains.counts.push({ probe, member, added: gain((before?.[member] as number | undefined) ?? 0, now[member] as number) });
      } else if (kind === 'latency' && now[member] !== undefined) {
        const after = slots((now[member] as LatencySummary).histogram);
        const then = before?.[member] === undefined ? [] : slots((before[member] as LatencySummary).histogram);
        gains.latency.push({ probe, member, added: after.map((c, i) => gain(then[i] ?? 0, c)) });
      }
    }
  }
  return gains;
}

/** Merges neighbouring columns in pairs: half as many, each twice as wide. */
export function coarsenTimeline(timeline: Timeline): Timeline {
  const pairs = Math.ceil(timeline.columns / 2);
  const pairUp = <T>(columns: readonly T[], add: (a: T, b: T | undefined) => T): T[] =>
    Array.from({ length: pairs }, (_, i) => add(columns[2 * i] as T, columns[2 * i + 1]));
  return {
    ...timeline,
    columnSeconds: timeline.columnSeconds * 2,
    columns: pairs,
    latency: timeline.latency.map((s) => ({
      ...s,
      columns: pairUp(
        s.columns.map((_, i) => columnSlots(s, i)),
        (a, b) => addSlots(a, b ?? []),
      ).map((c) => toColumn(c, s.first)),
    })),
    counts: timeline.counts.map((s) => ({ ...s, columns: pairUp(s.columns, (a, b) => a + (b ?? 0)) })),
  };
}

/** The column holding atMs (columns before the session's start count as its first). */
function columnAt(timeline: Timeline, atMs: number): number {
  return Math.floor(Math.max(0, atMs - Date.parse(timeline.startedAt)) / (timeline.columnSeconds * 1000));
}

/**
 * The timeline with columns up to the one holding atMs, empty ones for idle
 * intervals, coarsened when that would take more than TIMELINE_COLUMNS; the
 * same object when it already has that column.
 */
export function extendTimeline(timeline: Timeline, atMs: number): Timeline {
  if (columnAt(timeline, atMs) < timeline.columns) return timeline;
  let next = timeline;
  while (columnAt(next, atMs) >= TIMELINE_COLUMNS) next = coarsenTimeline(next);
  const columns = columnAt(next, atMs) + 1;
  return {
    ...next,
    columns,
    latency: next.latency.map((s) => ({ ...s, columns: [...s.columns, ...new Array<number[]>(columns - s.columns.length).fill([])] })),
    counts: next.counts.map((s) => ({ ...s, columns: [...s.columns, ...new Array<number>(columns - s.columns.length).fill(0)] })),
  };
}

/**
 * The timeline with what `current` gained over `previous` (both cumulative
 * results of the same session) added to the column holding atMs. Unchanged,
 * the same object, when nothing was gained, so a writer that compares
 * statuses writes nothing new while nothing happens.
 */
export function advanceTimeline(timeline: Timeline, previous: ProbeResults | undefined, current: ProbeResults, atMs: number): Timeline {
  const gains = gainsBetween(previous, current);
  const gained = gains.counts.some((g) => g.added > 0) || gains.latency.some((g) => g.added.some((c) => c > 0));
  const newSeries = gains.counts.some((g) => !timeline.counts.some((s) => sameSeries(s, g))) || gains.latency.some((g) => !timeline.latency.some((s) => sameSeries(s, g)));
  if (!gained && !newSeries) return timeline;
  const next = extendTimeline(timeline, atMs);
  const column = columnAt(next, atMs);
  const { columns } = next;

  const latency = gains.latency.map(({ probe, member, added }) => {
    const old = next.latency.find((s) => sameSeries(s, { probe, member }));
    const all = Array.from({ length: columns }, (_, i) => {
      const had = old === undefined ? [] : columnSlots(old, i);
      return i === column ? addSlots(had, added) : had;
    });
    const first = Math.min(...all.map(firstNonZero));
    const from = Number.isFinite(first) ? first : -1;
    return { probe, member, first: from, columns: all.map((c) => toColumn(c, from)) };
  });
  const counts = gains.counts.map(({ probe, member, added }) => {
    const old = next.counts.find((s) => sameSeries(s, { probe, member }));
    return { probe, member, columns: Array.from({ length: columns }, (_, i) => (old?.columns[i] ?? 0) + (i === column ? added : 0)) };
  });
  // Series of probes no longer in the results (a probe removed from the spec) keep their columns.
  const kept = <S extends { probe: string; member: string }>(old: readonly S[], fresh: readonly S[]) => old.filter((s) => !fresh.some((f) => sameSeries(s, f)));
  return { ...next, latency: [...latency, ...kept(next.latency, latency)], counts: [...counts, ...kept(next.counts, counts)] };
}

/** A latency series' column as a histogram, for drawing and for checks. */
export function columnHistogram(series: LatencySeries, column: number): Log2Histogram {
  const fromZero = columnSlots(series, column);
  return { zeroCount: fromZero[0] ?? 0, buckets: fromZero.slice(1) };
}
