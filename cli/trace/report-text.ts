// A profile report for people: one block of totals, then one per target.
// Used for `loupe trace`'s live summary and its final report. The totals
// draw each latency histogram as bars under their probe's lines; targets
// keep to the lines, so the report stays short with many of them.
import type { ProfileCost } from '../../api/cost.js';
import type { LatencySummary } from '../../api/histogram.js';
import { formatBytes, formatCount } from '../../api/probe-format.js';
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

/** One line of what tracing cost: kernel CPU of the probes, events, map memory, and lost events if any. */
export function renderCost(cost: ProfileCost): string {
  const cpu = cost.unmeasured === undefined ? `${Number((cost.cpuCores * 100).toPrecision(2))}% of a CPU in the kernel` : 'CPU not measured';
  const line = `cost      ${cpu}, ${formatCount(Math.round(cost.eventsPerSecond))} events/s, maps ${formatBytes(cost.kernelMemoryBytes)}`;
  const drops = cost.ringBufferDrops ?? 0;
  return drops > 0 ? `${line}, ${formatCount(drops)} events dropped (ring buffer full)` : line;
}

/** The report under a heading; `preface` (a heat map) goes between the heading and the results. */
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
