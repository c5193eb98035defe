// The profile's folded stacks as an interactive flame graph (d3-flame-graph:
// click a frame to zoom, search to highlight), kernel frames in blue and user
// frames in warm colours so the boundary shows at a glance; the samples of
// stacks the top list left out in grey, as they are no frame of their own.
import flamegraph from 'd3-flame-graph';
import { select } from 'd3-selection';
import type { FlameView } from '../view-types.js';
import { formatCount } from './format.js';

export function flameGraph(view: FlameView, width: number): HTMLElement {
  const box = document.createElement('div');
  box.className = 'flame';
  const controls = document.createElement('div');
  controls.className = 'flame-controls';
  const search = document.createElement('input');
  search.type = 'search';
  search.placeholder = 'search frames';
  const reset = document.createElement('button');
  reset.textContent = 'reset zoom';
  const details = document.createElement('span');
  details.className = 'flame-details';
  controls.append(search, reset, details);
  const chartBox = document.createElement('div');
  box.append(controls, chartBox);

  const total = view.root.value;
  const isKernel = (name: string) => name.endsWith(view.kernelMarker);
  const chart = flamegraph()
    .width(width)
    .cellHeight(18)
    .transitionDuration(250)
    .minFrameSize(0)
    .sort(true)
    .label((d) => `${d.data.name}: ${formatCount(d.value)} samples (${((100 * d.value) / Math.max(1, total)).toFixed(1)}%)`)
    .setColorMapper((d, original) =>
      d.data.name === view.leftOutFrame ? '#d8d8d8' : isKernel(d.data.name) ? `hsl(210, 60%, ${62 + (d.data.name.length % 8) * 2}%)` : original,
    )
    .setDetailsElement(details);
  select(chartBox).datum(view.root).call(chart);
  search.addEventListener('input', () => (search.value === '' ? chart.clear() : chart.search(search.value)));
  reset.addEventListener('click', () => chart.resetZoom());
  return box;
}
