// How numbers read in the two places people see probe results as text: the
// one-line headline `kubectl get traceprofiles` shows (compact: 1.2k, 3.1ms)
// and the report `loupe trace` prints (exact counts, p50/p90/p99, top lists).
// Each probe's descriptor phrases its own results with these.
import { histogramQuantile, type LatencySummary } from './histogram.js';
import type { ProfileCost } from './cost.js';
import type { RankedEntry } from './top-list.js';

/** 999, 1.2k, 48k, 3.4M, 1.1G */
export function compactCount(n: number): string {
  return compact(n, [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']], '');
}

/** 850ns, 12µs, 3.1ms, 2.5s */
export function compactNanoseconds(ns: number): string {
  return compact(ns, [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs']], 'ns');
}

function compact(n: number, units: [number, string][], unit: string): string {
  for (const [size, suffix] of units) {
    if (n >= size) {
      const scaled = n / size;
      return `${scaled >= 10 ? Math.round(scaled) : Math.round(scaled * 10) / 10}${suffix}`;
    }
  }
  return `${n}${unit}`;
}

/** " (12 failed)" when n > 0: a headline's failures. */
export const compactFailed = (n: number): string => (n > 0 ? ` (${compactCount(n)} failed)` : '');

/** " p99 3.1ms" when the summary has one: a headline's latency. */
export const compactP99 = (latency: LatencySummary): string => (latency.p99 === undefined ? '' : ` p99 ${compactNanoseconds(latency.p99)}`);

const number = new Intl.NumberFormat('en-US');

/** 1,234,567: a report's exact count. */
export function formatCount(n: number): string {
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

/** "latency p50 12µs p90 40µs p99 1.2ms", or "latency -" with no samples. */
export function formatLatency(name: string, s: LatencySummary): string {
  if (s.count === 0) return `${name} -`;
  return `${name} p50 ${formatNs(s.p50 ?? 0)} p90 ${formatNs(s.p90 ?? 0)} p99 ${formatNs(s.p99 ?? 0)}`;
}

/** A report's top list: a title, then one aligned line per entry (count, CPU time, p99 latency, errors). */
export function formatTop(title: string, list: readonly RankedEntry[]): string[] {
  if (list.length === 0) return [];
  const keyWidth = Math.min(60, Math.max(...list.map((e) => e.key.length)));
  return [
    `  ${title}:`,
    ...list.map((e) => {
      const errors = e.errors ? `  (${formatCount(e.errors)} ${e.errors === 1 ? 'error' : 'errors'})` : '';
      const time = e.cpuNs === undefined ? '' : `  ${formatNs(e.cpuNs).padStart(7)}`;
      const p99 = e.latencyNs === undefined ? undefined : histogramQuantile(e.latencyNs, 0.99);
      const latency = p99 === undefined ? '' : `  p99 ${formatNs(p99).padStart(7)}`;
      return `    ${e.key.padEnd(keyWidth)}  ${formatCount(e.count).padStart(9)}${time}${latency}${errors}`;
    }),
  ];
}

/** What tracing cost, in one phrase: kernel CPU of the probes, events, map memory, and lost events if any. */
export function formatCost(cost: Pick<ProfileCost, 'cpuCores' | 'eventsPerSecond' | 'kernelMemoryBytes' | 'ringBufferDrops' | 'unmeasured'>): string {
  const cpu = cost.unmeasured === undefined ? `${Number((cost.cpuCores * 100).toPrecision(2))}% of a CPU in the kernel` : 'CPU not measured';
  const phrase = `${cpu}, ${formatCount(Math.round(cost.eventsPerSecond))} events/s, maps ${formatBytes(cost.kernelMemoryBytes)}`;
  const drops = cost.ringBufferDrops ?? 0;
  return drops > 0 ? `${phrase}, ${formatCount(drops)} events dropped (ring buffer full)` : phrase;
}
