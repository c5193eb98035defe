// A profile report for people: one block of totals, then one per target.
// Used for `loupe trace`'s live summary and its final report.
import type { ProfileCost } from '../api/cost.js';
import type { LatencySummary } from '../api/histogram.js';
import type { RankedEntry, ResultOf } from '../api/merge.js';
import type { ProbeName, ProbeResults } from '../api/results.js';
import type { ProfileReport } from './report.js';

const number = new Intl.NumberFormat('en-US');

function count(n: number): string {
  return number.format(n);
}

export function formatNs(ns: number): string {
  if (ns < 1_000) return `${ns}ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toPrecision(3)}µs`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toPrecision(3)}ms`;
  return `${(ns / 1_000_000_000).toPrecision(3)}s`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes}B` : `${value.toPrecision(3)}${units[unit]}`;
}

function latency(name: string, s: LatencySummary): string {
  if (s.count === 0) return `${name} -`;
  return `${name} p50 ${formatNs(s.p50 ?? 0)} p90 ${formatNs(s.p90 ?? 0)} p99 ${formatNs(s.p99 ?? 0)}`;
}

function top(title: string, list: readonly RankedEntry[]): string[] {
  if (list.length === 0) return [];
  const keyWidth = Math.min(60, Math.max(...list.map((e) => e.key.length)));
  return [
    `  ${title}:`,
    ...list.map((e) => {
      const errors = e.errors ? `  (${count(e.errors)} ${e.errors === 1 ? 'error' : 'errors'})` : '';
      const time = e.cpuNs === undefined ? '' : `  ${formatNs(e.cpuNs).padStart(7)}`;
      return `    ${e.key.padEnd(keyWidth)}  ${count(e.count).padStart(9)}${time}${errors}`;
    }),
  ];
}

const renderers: { [N in ProbeName]: (r: ResultOf<N>) => string[] } = {
  exec: (r) => [`exec      ${count(r.execs)} execs, ${count(r.exits)} exits`, ...top('top commands', r.topCommands)],
  syscalls: (r) => [
    `syscalls  ${count(r.calls)} calls, ${count(r.errors)} errors, ${latency('latency', r.latencyNs)}`,
    ...top('top syscalls', r.topSyscalls),
  ],
  files: (r) => [`files     ${count(r.opens)} opens, ${count(r.errors)} failed`, ...top('top paths', r.topPaths)],
  tcp: (r) => [
    `tcp       ${count(r.connects)} connects (${count(r.connectFailures)} failed), ${count(r.accepts)} accepts, ` +
      `${count(r.closed)} closed, ${count(r.retransmits)} retransmits`,
    `          sent ${formatBytes(r.bytesSent)}, received ${formatBytes(r.bytesReceived)}, ${latency('lifetime', r.durationNs)}`,
    ...top('top peers', r.topPeers),
  ],
  runqlat: (r) => [`runqlat   ${count(r.latencyNs.count)} waits, ${latency('run-queue latency', r.latencyNs)}`, ...top('top threads', r.topCommands)],
  oomkill: (r) => [`oomkill   ${count(r.kills)} OOM kills`, ...top('victims', r.topCommands)],
  biolatency: (r) => [
    `biolatency ${count(r.ios)} I/Os (${count(r.errors)} failed), read ${formatBytes(r.bytesRead)}, ` +
      `written ${formatBytes(r.bytesWritten)}, ${latency('latency', r.latencyNs)}`,
    ...top('top devices', r.topDevices),
  ],
  netbytes: (r) => [
    `netbytes  sent ${formatBytes(r.bytesSent)} in ${count(r.packetsSent)} packets, ` +
      `received ${formatBytes(r.bytesReceived)} in ${count(r.packetsReceived)} packets`,
    ...top('top protocols', r.topProtocols),
  ],
  profile: (r) => [
    `profile   ${count(r.samples)} on-CPU samples${r.cpuNs === undefined ? '' : `, ${formatNs(r.cpuNs)} on CPU`}`,
    ...top('hottest functions', r.topFrames),
  ],
};

function renderResults(results: ProbeResults, probes: readonly ProbeName[]): string[] {
  const lines: string[] = [];
  for (const probe of probes) {
    const result = results[probe];
    if (result !== undefined) lines.push(...(renderers[probe] as (r: typeof result) => string[])(result));
  }
  return lines;
}

/** One line of what tracing cost: kernel CPU of the probes, events, map memory, and lost events if any. */
export function renderCost(cost: ProfileCost): string {
  const cpu = cost.unmeasured === undefined ? `${Number((cost.cpuCores * 100).toPrecision(2))}% of a CPU in the kernel` : 'CPU not measured';
  const line = `cost      ${cpu}, ${count(Math.round(cost.eventsPerSecond))} events/s, maps ${formatBytes(cost.kernelMemoryBytes)}`;
  const drops = cost.ringBufferDrops ?? 0;
  return drops > 0 ? `${line}, ${count(drops)} events dropped (ring buffer full)` : line;
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
