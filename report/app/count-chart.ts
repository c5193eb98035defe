// A probe's counts per timeline column (execs and exits, OOM kills,
// requests, …): when the rare events happened. One small chart per count
// with its own scale, as samples and nanoseconds share no axis.
import * as Plot from '@observablehq/plot';
import type { CountTimelineView } from '../view-types.js';
import { formatClock, formatCount } from './format.js';

export function countChart(view: CountTimelineView, width: number): HTMLElement {
  const columnMs = view.columnSeconds * 1000;
  const start = (column: number) => new Date(view.startMs + column * columnMs);
  const box = document.createElement('div');
  for (const series of view.series) {
    const bars = series.counts.flatMap((count, column) => (count === 0 ? [] : [{ column, count }]));
    const chart = Plot.plot({
      width,
      height: 110,
      marginLeft: 90,
      x: { type: 'utc', label: null, domain: [start(0), start(Math.max(1, view.columns))], ticks: Math.max(2, Math.floor(width / 120)), tickFormat: (d: Date) => formatClock(d.getTime()) },
      y: { label: `${series.member} (${formatCount(series.total)})`, ticks: 2 },
      marks: [
        Plot.frame({ stroke: '#ddd' }),
        Plot.rectY(bars, {
          x1: (d: (typeof bars)[number]) => start(d.column),
          x2: (d: (typeof bars)[number]) => start(d.column + 1),
          y: 'count',
          fill: '#4a7ab5',
          inset: 0.5,
          ariaDescription: `${series.member} bars`,
          title: (d: (typeof bars)[number]) => `${series.member} ${formatClock(start(d.column).getTime())}\ncount ${formatCount(d.count)}`,
        }),
      ],
    });
    box.append(chart);
  }
  return box;
}
