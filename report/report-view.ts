// ReportData → what the page draws: heat map cells and percentile lines per
// latency member, count timelines, flame graph trees, and tables. All the
// math happens here, in Node, where it is unit-tested; the page only draws.
// Generic: every probe is read through its descriptor.
import { probeActivity } from '../api/activity.js';
import { histogramCount, histogramQuantile, type LatencySummary } from '../api/histogram.js';
import { formatCount, formatNs } from '../api/probe-format.js';
import { columnHistogram, type Timeline } from '../api/timeline.js';
import { OTHER_TOP_KEY, type RankedEntry } from '../api/top-list.js';
import { resultMembers } from '../probes/probe-descriptor.js';
import { descriptorOf, type ProbeName, type ResultOf } from '../probes/registry.js';
import type { ReportData, ReportPod } from './report-source.js';
import type { CountTimelineView, FlameNode, FlameView, HeatmapView, Percentile, ProbeView, ReportView, TableView } from './view-types.js';

/** Name of the flame graph child that holds the samples of stacks the top list left out. */
export const STACKS_LEFT_OUT = '(stacks not in the top list)';

type AnyResult = Record<string, unknown>;

function memberDescription(probe: ProbeName, member: string): string {
  const shape = descriptorOf(probe).result.shape as Record<string, { description?: string }>;
  return shape[member]?.description ?? '';
}

/** The latency range slot k holds, as read: (2^(k-1), 2^k] ns; slot -1 is exactly zero. */
function slotRange(slot: number): string {
  if (slot === -1) return '0';
  if (slot === 0) return '1ns';
  return `(${formatNs(2 ** (slot - 1))}, ${formatNs(2 ** slot)}]`;
}

const percentile = (ns: number | undefined): Percentile | null => (ns === undefined ? null : { ns, label: formatNs(ns) });

function heatmap(probe: ProbeName, member: string, summary: LatencySummary, timeline: Timeline | undefined): HeatmapView {
  const series = timeline?.latency.find((s) => s.probe === probe && s.member === member);
  const columns = series === undefined ? 0 : (timeline?.columns ?? 0);
  const cells: HeatmapView['cells'] = [];
  const p50: HeatmapView['p50'] = [];
  const p99: HeatmapView['p99'] = [];
  for (let column = 0; column < columns && series !== undefined; column++) {
    const h = columnHistogram(series, column);
    if (h.zeroCount > 0) cells.push({ column, slot: -1, count: h.zeroCount });
    h.buckets.forEach((count, slot) => {
      if (count > 0) cells.push({ column, slot, count });
    });
    p50.push(percentile(histogramQuantile(h, 0.5)));
    p99.push(percentile(histogramQuantile(h, 0.99)));
  }
  const histogram = [-1, ...summary.histogram.buckets.keys()]
    .map((slot) => ({ slot, range: slotRange(slot), count: slot < 0 ? summary.histogram.zeroCount : (summary.histogram.buckets[slot] ?? 0) }))
    .filter((h) => h.count > 0);
  const drawn = [...cells.map((c) => c.slot), ...histogram.map((h) => h.slot)];
  const lowest = Math.max(-1, Math.min(...drawn) - 1);
  const highest = Math.max(...drawn);
  const total = histogramCount(summary.histogram);
  const quantiles = [summary.p50 === undefined ? '' : `p50 ${formatNs(summary.p50)}`, summary.p99 === undefined ? '' : `p99 ${formatNs(summary.p99)}`];
  return {
    id: `${probe}-${member}`,
    title: `${probe} ${member}`,
    description: memberDescription(probe, member),
    startMs: timeline === undefined ? 0 : Date.parse(timeline.startedAt),
    columnSeconds: timeline?.columnSeconds ?? 0,
    columns,
    cells,
    p50,
    p99,
    histogram,
    slots: drawn.length === 0 ? [] : Array.from({ length: highest - lowest + 1 }, (_, i) => lowest + i).map((slot) => ({ slot, upper: slot < 0 ? '0' : formatNs(2 ** slot), range: slotRange(slot) })),
    total,
    timelineTotal: cells.reduce((sum, c) => sum + c.count, 0),
    summary: [`${formatCount(total)} measured`, ...quantiles.filter((q) => q !== '')].join(', '),
  };
}

function countTimeline(probe: ProbeName, result: AnyResult, timeline: Timeline | undefined): CountTimelineView | undefined {
  // Counts that stayed zero (errors of a healthy pod) would be empty charts.
  const series = timeline?.counts.filter((s) => s.probe === probe && s.columns.some((c) => c > 0)) ?? [];
  if (timeline === undefined || series.length === 0) return undefined;
  return {
    id: `${probe}-counts`,
    title: `${probe} over time`,
    startMs: Date.parse(timeline.startedAt),
    columnSeconds: timeline.columnSeconds,
    columns: timeline.columns,
    series: series.map((s) => ({ member: s.member, counts: s.columns, total: (result[s.member] as number | undefined) ?? 0 })),
  };
}

/** Folded stacks (outermost first) as a tree under a root of `samples`; what the list left out is one child. */
export function flameTree(stacks: readonly RankedEntry[], samples: number): FlameNode {
  const root: FlameNode = { name: 'all', value: 0, children: [] };
  for (const { key, count } of stacks) {
    if (key === OTHER_TOP_KEY) continue;
    root.value += count;
    let node = root;
    for (const frame of key.split(';')) {
      let child = node.children.find((c) => c.name === frame);
      if (child === undefined) {
        child = { name: frame, value: 0, children: [] };
        node.children.push(child);
      }
      child.value += count;
      node = child;
    }
  }
  const leftOut = samples - root.value;
  if (leftOut > 0) root.children.push({ name: STACKS_LEFT_OUT, value: leftOut, children: [] });
  root.value = Math.max(root.value, samples);
  return root;
}

function flame(probe: ProbeName, result: AnyResult): FlameView | undefined {
  const descriptor = descriptorOf(probe);
  if (descriptor.flameGraph === undefined) return undefined;
  const stacks = result[descriptor.flameGraph.stacks] as RankedEntry[];
  const samples = probeActivity(probe, result as ResultOf<typeof probe>);
  const root = flameTree(stacks, samples);
  const leftOut = root.children.find((c) => c.name === STACKS_LEFT_OUT)?.value ?? 0;
  return {
    title: `${probe} ${descriptor.flameGraph.stacks}`,
    root,
    kernelMarker: descriptor.flameGraph.kernelFrameSuffix,
    leftOutFrame: STACKS_LEFT_OUT,
    ...(leftOut > 0 && {
      note: `${formatCount(leftOut)} of ${formatCount(samples)} samples are in stacks the top list left out (raise spec.output.status.topN, or download the full profile as pprof).`,
    }),
  };
}

function topTable(title: string, list: readonly RankedEntry[]): TableView {
  const hasErrors = list.some((e) => e.errors !== undefined);
  const hasCpu = list.some((e) => e.cpuNs !== undefined);
  const hasLatency = list.some((e) => e.latencyNs !== undefined);
  const columns = [
    { label: 'key', numeric: false },
    { label: 'count', numeric: true },
    ...(hasErrors ? [{ label: 'errors', numeric: true }] : []),
    ...(hasCpu ? [{ label: 'CPU time', numeric: true }] : []),
    ...(hasLatency ? [{ label: 'p50', numeric: true }, { label: 'p99', numeric: true }] : []),
  ];
  const rows = list.map((e) => {
    const cells = [e.key, formatCount(e.count)];
    const sortKeys: (number | null)[] = [null, e.count];
    if (hasErrors) cells.push(formatCount(e.errors ?? 0)), sortKeys.push(e.errors ?? 0);
    if (hasCpu) cells.push(e.cpuNs === undefined ? '' : formatNs(e.cpuNs)), sortKeys.push(e.cpuNs ?? null);
    if (hasLatency) {
      const q50 = e.latencyNs === undefined ? undefined : histogramQuantile(e.latencyNs, 0.5);
      const q99 = e.latencyNs === undefined ? undefined : histogramQuantile(e.latencyNs, 0.99);
      cells.push(q50 === undefined ? '' : formatNs(q50), q99 === undefined ? '' : formatNs(q99));
      sortKeys.push(q50 ?? null, q99 ?? null);
    }
    return { cells, sortKeys };
  });
  return { title, columns, rows, ...(list.length === 0 && { note: 'nothing counted' }) };
}

function probeView<N extends ProbeName>(probe: N, result: ResultOf<N>, timeline: Timeline | undefined): ProbeView {
  const descriptor = descriptorOf(probe);
  const r = result as AnyResult;
  const members = resultMembers(descriptor.result);
  const counts = countTimeline(probe, r, timeline);
  const flameGraph = flame(probe, r);
  return {
    name: probe,
    summary: descriptor.text(result).slice(0, 1),
    heatmaps: members.filter((m) => m.kind === 'latency').map((m) => heatmap(probe, m.name, r[m.name] as LatencySummary, timeline)),
    ...(counts !== undefined && { counts }),
    ...(flameGraph !== undefined && { flame: flameGraph }),
    tables: descriptor.topLists.map((field) => topTable(`${probe} ${field}`, r[field] as RankedEntry[])),
  };
}

function phrase<N extends ProbeName>(probe: N, result: ResultOf<N>): string {
  return descriptorOf(probe).headline(result);
}

function podTable(pods: readonly ReportPod[], probes: readonly ProbeName[]): TableView {
  const shown = probes.filter((p) => pods.some((pod) => pod.results[p] !== undefined));
  return {
    title: 'pods',
    columns: [
      { label: 'pod', numeric: false },
      { label: 'node', numeric: false },
      ...shown.map((p) => ({ label: p, numeric: true })),
      { label: 'summary', numeric: false },
    ],
    rows: pods.map((pod) => {
      const activity = shown.map((p) => {
        const result = pod.results[p] as ResultOf<typeof p> | undefined;
        return result === undefined ? undefined : probeActivity(p, result);
      });
      const phrases = shown.flatMap((p) => {
        const result = pod.results[p] as ResultOf<typeof p> | undefined;
        return result === undefined ? [] : [phrase(p, result)];
      });
      return {
        cells: [pod.name, pod.node ?? '', ...activity.map((a) => (a === undefined ? '' : formatCount(a))), phrases.join(', ')],
        sortKeys: [null, null, ...activity.map((a) => a ?? null), null],
      };
    }),
  };
}

export function reportView(data: ReportData, generatedAt: Date): ReportView {
  const probes = data.probes.filter((p) => data.results[p] !== undefined);
  return {
    title: data.title,
    ...(data.headline !== undefined && { headline: data.headline }),
    generatedAt: generatedAt.toISOString(),
    facts: data.facts,
    notices: data.notices,
    probes: probes.map((p) => probeView(p, data.results[p] as ResultOf<typeof p>, data.timeline)),
    ...(data.pods.length > 0 && { pods: podTable(data.pods, probes) }),
  };
}
