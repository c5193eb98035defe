// A latency member drawn two ways: a heat map over the session (x: time
// column, y: log2 latency slot, colour: count on a log scale, with each
// column's p50 and p99 as lines), the way Brendan Gregg's latency heat maps
// show when the tail grew; and the whole session's log2 histogram, which
// shows two modes where a p99 shows one number.
import * as Plot from '@observablehq/plot';
import type { HeatmapView } from '../view-types.js';
import { formatClock, formatCount } from './format.js';

/** y of slot k's cell: from log2 of its lower bound to log2 of its upper bound; the zero slot sits below slot 0. */
const cellBottom = (slot: number) => slot - 1;

export function heatmapChart(view: HeatmapView, width: number): Element {
  const columnMs = view.columnSeconds * 1000;
  const start = (column: number) => new Date(view.startMs + column * columnMs);
  const lowest = view.slots[0]?.slot ?? 0;
  const highest = view.slots[view.slots.length - 1]?.slot ?? 0;
  const labelOf = new Map(view.slots.map((s) => [s.slot, s]));
  const columns = Array.from({ length: view.columns }, (_, column) => ({ column }));
  const points = (values: HeatmapView['p50']) =>
    values.flatMap((p, column) => (p === null || p.ns <= 0 ? [] : [{ at: new Date(view.startMs + (column + 0.5) * columnMs), log2: Math.log2(p.ns), label: p.label }]));
  return Plot.plot({
    width,
    height: Math.max(220, (highest - lowest + 1) * 14 + 60),
    marginLeft: 64,
    x: { type: 'utc', label: 'time (UTC)', domain: [start(0), start(Math.max(1, view.columns))], ticks: Math.max(2, Math.floor(width / 120)), tickFormat: (d: Date) => formatClock(d.getTime()) },
    y: {
      label: 'latency',
      domain: [lowest, highest],
      ticks: view.slots.map((s) => s.slot),
      tickFormat: (v: number) => labelOf.get(v)?.upper ?? '',
    },
    color: { type: 'log', scheme: 'YlOrRd', legend: true, label: 'count per cell' },
    marks: [
      Plot.rect(columns, {
        x1: (d: { column: number }) => start(d.column),
        x2: (d: { column: number }) => start(d.column + 1),
        y1: lowest,
        y2: highest,
        fill: '#f3f3f3',
        stroke: 'white',
        strokeWidth: 0.5,
        ariaDescription: 'heatmap columns',
        title: (d: { column: number }) => `column ${d.column + 1}: ${formatClock(start(d.column).getTime())} to ${formatClock(start(d.column + 1).getTime())}`,
      }),
      Plot.rect(view.cells, {
        x1: (d: HeatmapView['cells'][number]) => start(d.column),
        x2: (d: HeatmapView['cells'][number]) => start(d.column + 1),
        y1: (d: HeatmapView['cells'][number]) => cellBottom(d.slot),
        y2: (d: HeatmapView['cells'][number]) => d.slot,
        fill: 'count',
        inset: 0.5,
        ariaDescription: 'heatmap cells',
        title: (d: HeatmapView['cells'][number]) => `${formatClock(start(d.column).getTime())}  ${labelOf.get(d.slot)?.range ?? ''}\ncount ${d.count}`,
      }),
      // Each percentile line on a white halo, so it shows over the darkest cells too.
      ...(['p50', 'p99'] as const).flatMap((name) => {
        const line = points(name === 'p50' ? view.p50 : view.p99);
        const dash = name === 'p99' ? '6 3' : undefined;
        return [
          Plot.line(line, { x: 'at', y: 'log2', stroke: 'white', strokeWidth: 4, strokeDasharray: dash }),
          Plot.line(line, { x: 'at', y: 'log2', stroke: '#0b5cad', strokeWidth: 2, strokeDasharray: dash, ariaDescription: name }),
          Plot.dot(line, { x: 'at', y: 'log2', r: 2.5, fill: '#0b5cad', title: (d: { label: string }) => `${name} ${d.label}` }),
        ];
      }),
    ],
  });
}

export function histogramChart(view: HeatmapView, width: number): Element {
  const bars = view.histogram;
  return Plot.plot({
    width,
    height: 230,
    marginLeft: 70,
    marginBottom: 70,
    x: { label: 'latency', domain: bars.map((b) => b.range), tickRotate: -35 },
    y: { label: 'count', grid: true },
    marks: [
      Plot.barY(bars, { x: 'range', y: 'count', fill: '#d9541e', ariaDescription: 'histogram bars', title: (d: (typeof bars)[number]) => `${d.range}\ncount ${formatCount(d.count)}` }),
      Plot.ruleY([0]),
    ],
  });
}
