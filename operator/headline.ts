// The one-line summary `kubectl get traceprofiles` shows, e.g.
// "1.2k execs, 48k syscalls p99 3.1ms, 310 opens (12 failed)".
import type { LatencySummary } from '../api/histogram.js';
import type { ResultOf } from '../api/merge.js';
import { PROBE_NAMES, type ProbeName, type ProbeResults } from '../api/results.js';

export const MAX_HEADLINE_LENGTH = 128;

/** 999, 1.2k, 48k, 3.4M, 1.1G */
export function compactCount(n: number): string {
  const units: [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, suffix] of units) {
    if (n >= size) {
      const scaled = n / size;
      return `${scaled >= 10 ? Math.round(scaled) : Math.round(scaled * 10) / 10}${suffix}`;
    }
  }
  return String(n);
}

/** 850ns, 12µs, 3.1ms, 2.5s */
export function compactNanoseconds(ns: number): string {
  const units: [number, string][] = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs']];
  for (const [size, suffix] of units) {
    if (ns >= size) {
      const scaled = ns / size;
      return `${scaled >= 10 ? Math.round(scaled) : Math.round(scaled * 10) / 10}${suffix}`;
    }
  }
  return `${ns}ns`;
}

const failed = (n: number): string => (n > 0 ? ` (${compactCount(n)} failed)` : '');
const p99 = (latency: LatencySummary): string => (latency.p99 === undefined ? '' : ` p99 ${compactNanoseconds(latency.p99)}`);

/** One phrase per probe; typed over every probe name, so a new probe cannot be forgotten here. */
const PHRASES: { [N in ProbeName]: (result: ResultOf<N>) => string } = {
  exec: (r) => `${compactCount(r.execs)} execs`,
  syscalls: (r) => `${compactCount(r.calls)} syscalls${p99(r.latencyNs)}${failed(r.errors)}`,
  files: (r) => `${compactCount(r.opens)} opens${failed(r.errors)}`,
  tcp: (r) => `${compactCount(r.connects + r.accepts)} conns${failed(r.connectFailures)}`,
  runqlat: (r) => `runq${p99(r.latencyNs) || ' idle'}`,
  oomkill: (r) => `${compactCount(r.kills)} OOM kills`,
  biolatency: (r) => `${compactCount(r.ios)} I/Os${p99(r.latencyNs)}${failed(r.errors)}`,
  netbytes: (r) => `${compactCount(r.bytesSent + r.bytesReceived)}B net`,
  // Time, where every node reported it: samples taken at different rates do not compare.
  profile: (r) => (r.cpuNs === undefined ? `${compactCount(r.samples)} CPU samples` : `${compactNanoseconds(r.cpuNs)} on CPU`),
};

function phrase<N extends ProbeName>(probe: N, result: ResultOf<N>): string {
  return (PHRASES[probe] as (r: ResultOf<N>) => string)(result);
}

/** One phrase per probe that reported, joined until the line is full; undefined without results. */
export function headline(results: ProbeResults | undefined): string | undefined {
  if (results === undefined) return undefined;
  let line = '';
  for (const probe of PROBE_NAMES) {
    const result = results[probe];
    if (result === undefined) continue;
    const next = line === '' ? phrase(probe, result) : `${line}, ${phrase(probe, result)}`;
    if (next.length > MAX_HEADLINE_LENGTH) break;
    line = next;
  }
  return line === '' ? undefined : line;
}
