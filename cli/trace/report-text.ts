// A profile report for people: one block of totals, then one per target.
// Used for `loupe trace`'s live summary and its final report.
import type { ProfileCost } from '../../api/cost.js';
import { formatBytes, formatCount } from '../../api/probe-format.js';
import type { ProbeResults } from '../../api/results.js';
import { descriptorOf, type ProbeName, type ResultOf } from '../../probes/registry.js';
import type { ProfileReport } from './report.js';

function renderResults(results: ProbeResults, probes: readonly ProbeName[]): string[] {
  return probes.flatMap((probe) => {
    const result = results[probe] as ResultOf<typeof probe> | undefined;
    return result === undefined ? [] : descriptorOf(probe).text(result);
  });
}

/** One line of what tracing cost: kernel CPU of the probes, events, map memory, and lost events if any. */
export function renderCost(cost: ProfileCost): string {
  const cpu = cost.unmeasured === undefined ? `${Number((cost.cpuCores * 100).toPrecision(2))}% of a CPU in the kernel` : 'CPU not measured';
  const line = `cost      ${cpu}, ${formatCount(Math.round(cost.eventsPerSecond))} events/s, maps ${formatBytes(cost.kernelMemoryBytes)}`;
  const drops = cost.ringBufferDrops ?? 0;
  return drops > 0 ? `${line}, ${formatCount(drops)} events dropped (ring buffer full)` : line;
}

export function renderReportText(report: ProfileReport, heading: string): string {
  const lines = [heading, ''];
  if (report.cost !== undefined) lines.push(renderCost(report.cost), '');
  for (const f of report.failed) lines.push(`${f.probe}: not loaded: ${f.message}`);
  if (report.failed.length > 0) lines.push('');
  lines.push(...renderResults(report.totals, report.probes));
  if (report.targets.length > 1) {
    for (const t of report.targets) {
      lines.push('', `${t.target} (cgroup ${t.cgroupId})`);
      lines.push(...renderResults(t.results, report.probes).map((l) => `  ${l}`));
    }
  }
  return `${lines.join('\n')}\n`;
}
