// The report page: reads the view the CLI embedded (report/report-view.ts)
// and draws it. Everything it needs is inlined; it asks the network for
// nothing. A section that cannot be drawn says so in place of the chart.
import './report.css';
import type { ProbeView, ReportView } from '../view-types.js';
import { countChart } from './count-chart.js';
import { flameGraph } from './flame-graph.js';
import { formatCount } from './format.js';
import { heatmapChart, histogramChart } from './latency-charts.js';
import { sortableTable } from './sortable-table.js';

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className !== undefined) e.className = className;
  return e;
}

/** Draws one part; if drawing fails, the part says why and the rest of the page still draws. */
function part(title: string, draw: () => Node): HTMLElement {
  const box = element('div', undefined, 'part');
  try {
    box.append(draw());
  } catch (err) {
    console.error(`${title}: ${String(err)}`);
    box.append(element('p', `${title} could not be drawn: ${err instanceof Error ? err.message : String(err)}`, 'error'));
  }
  return box;
}

function probeSection(probe: ProbeView, width: number): HTMLElement {
  const section = element('section');
  section.id = `probe-${probe.name}`;
  section.append(element('h2', probe.name));
  for (const line of probe.summary) section.append(element('p', line, 'summary'));
  for (const h of probe.heatmaps) {
    const figure = element('figure');
    figure.dataset.heatmap = h.id;
    figure.append(element('h3', `${h.title}: ${h.summary}`));
    if (h.description !== '') figure.append(element('p', h.description, 'description'));
    if (h.total === 0) {
      figure.append(element('p', 'Nothing measured yet.', 'note'));
    } else {
      if (h.columns === 0) figure.append(element('p', 'No timeline: the heat map over time cannot be drawn.', 'note'));
      else {
        figure.append(element('h4', `over time: ${h.columns} columns of ${h.columnSeconds} s; solid line p50, dashed p99`));
        figure.append(part(`${h.title} heat map`, () => heatmapChart(h, width)));
        if (h.timelineTotal !== h.total) {
          figure.append(element('p', `The columns hold ${formatCount(h.timelineTotal)} of ${formatCount(h.total)}: an agent restarted or a node stopped reporting during the session.`, 'note'));
        }
      }
      figure.append(element('h4', 'whole session'));
      figure.append(part(`${h.title} histogram`, () => histogramChart(h, width)));
    }
    section.append(figure);
  }
  if (probe.counts !== undefined && probe.counts.series.some((s) => s.total > 0)) {
    const figure = element('figure');
    figure.dataset.counts = probe.counts.id;
    figure.append(element('h3', probe.counts.title));
    figure.append(part(probe.counts.title, () => countChart(probe.counts!, width)));
    section.append(figure);
  }
  if (probe.flame !== undefined) {
    const figure = element('figure');
    figure.dataset.flamegraph = probe.name;
    figure.append(element('h3', `flame graph: ${formatCount(probe.flame.root.value)} samples (click to zoom; kernel frames blue)`));
    if (probe.flame.note !== undefined) figure.append(element('p', probe.flame.note, 'note'));
    if (probe.flame.root.value === 0) figure.append(element('p', 'No samples yet.', 'note'));
    else figure.append(part('flame graph', () => flameGraph(probe.flame!, width)));
    section.append(figure);
  }
  for (const table of probe.tables) {
    section.append(element('h3', table.title));
    if (table.note !== undefined) section.append(element('p', table.note, 'note'));
    else section.append(part(table.title, () => sortableTable(table)));
  }
  return section;
}

function draw(view: ReportView): void {
  document.title = `${view.title}: Loupe report`;
  const main = element('main');
  const width = Math.max(600, Math.min(1100, document.documentElement.clientWidth - 48));
  const header = element('header');
  header.append(element('h1', view.title));
  if (view.headline !== undefined) header.append(element('p', view.headline, 'headline'));
  const facts = element('dl');
  for (const f of view.facts) facts.append(element('dt', f.label), element('dd', f.value));
  header.append(facts, element('p', `report written ${view.generatedAt}`, 'generated'));
  main.append(header);
  for (const n of view.notices) main.append(element('p', n, 'notice'));
  if (view.probes.length > 0) {
    const nav = element('nav');
    for (const p of view.probes) {
      const a = element('a', p.name);
      a.href = `#probe-${p.name}`;
      nav.append(a);
    }
    main.append(nav);
  } else if (view.notices.length === 0) {
    main.append(element('p', 'No probe has results in this report.', 'notice'));
  }
  for (const p of view.probes) main.append(probeSection(p, width));
  if (view.pods !== undefined) {
    const section = element('section');
    section.id = 'pods';
    section.append(element('h2', 'per pod'), part('pods', () => sortableTable(view.pods!)));
    main.append(section);
  }
  document.body.append(main);
}

const data = document.getElementById('loupe-report')?.textContent;
if (data === undefined || data === null || data === '') {
  document.body.append(element('p', 'This report holds no data: write it again with loupe report.', 'notice'));
} else {
  draw(JSON.parse(data) as ReportView);
}
