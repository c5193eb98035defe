// A profile report for people: one block of totals, then one per target.
// Used for `loupe trace`'s live summary and its final report. The totals
// draw each latency histogram as bars under their probe's lines; targets
// keep to the lines, so the report stays short with many of them.
import type { ProfileCost } from '../../api/cost.js';
import type { LatencySummary } from '../../api/histogram.js';
import { formatCost } from '../../api/probe-format.js';
import type { ProbeResults } from '../../api/results.js';
import { resultMembers } from '../../probes/probe-descriptor.js';
import { descriptorOf, type ProbeName, type ResultOf } from '../../probes/registry.js';
import { memberWords, renderHistogramBars } from './histogram-text.js';
import type { ProfileReport } from './report.js';

/** A probe's latency histograms as bars, each under a title; none for a histogram with no counts. */
function histogramLines(probe: ProbeName, result: Record<string, unknown>): string[] {
  return resultMembers(descriptorOf(probe).result)
    .filter((m) => m.kind === 'latency' && result[m.name] !== undefined)
    .flatMap((m) => {
      const bars = renderHistogramBars((result[m.name] as LatencySummary).histogram);
      return bars.length === 0 ? [] : [`  ${memberWords(m.name)} histogram:`, ...bars.map((b) => `    ${b}`)];
    });
}

function renderResults(results: ProbeResults, probes: readonly ProbeName[], bars: boolean): string[] {
  return probes.flatMap((probe) => {
    const result = results[probe] as ResultOf<typeof probe> | undefined;
    if (result === undefined) return [];
    return [...descriptorOf(probe).text(result), ...(bars ? histogramLines(probe, result) : [])];
  });
}

/** One line of what tracing cost. */
export function renderCost(cost: ProfileCost): string {
  return `cost      ${formatCost(cost)}`;
}

export function renderReportText(report: ProfileReport, heading: string, preface = ''): string {
  const lines = [heading, ''];
  if (preface !== '') lines.push(preface, '');
  if (report.cost !== undefined) lines.push(renderCost(report.cost), '');
  for (const f of report.failed) lines.push(`${f.probe}: not loaded: ${f.message}`);
  if (report.failed.length > 0) lines.push('');
  lines.push(...renderResults(report.totals, report.probes, true));
  if (report.targets.length > 1) {
    for (const t of report.targets) {
      lines.push('', `${t.target} (cgroup ${t.cgroupId})`);
      lines.push(...renderResults(t.results, report.probes, false).map((l) => `  ${l}`));
    }
  }
  return `${lines.join('\n')}\n`;
}
