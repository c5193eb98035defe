// Probe options that profiles sharing one program set may each set
// differently (files.pathPrefixes, syscalls.only), applied in user space when
// the manager hands a cgroup's delta to a profile. Options the kernel serves
// for all profiles at once (the profile probe's sampling rate, the syscalls
// that get a latency histogram of their own) belong to the probe definitions:
// attachSetting and applyOptions in agent/probes/probe.ts.
import { mergeHistograms, summarizeLatency } from '../api/histogram.js';
import type { ProbeSpec } from '../api/probes.js';
import type { FilesResult, ProbeName, SyscallsResult } from '../api/results.js';
import type { SyscallArch } from '../probes/syscalls/syscall-names.js';
import type { ProbeResult, ProbeSpecOf } from './probes/probe.js';
import { NODE_SYSCALL_ARCH } from '../probes/syscalls/node-syscalls.js';
import { syscallNumber, type SyscallsDelta } from '../probes/syscalls/kernel.js';

/**
 * Why a profile's options for a probe cannot be served on this node (of
 * arch); undefined when they can. Admission accepts a syscall of any
 * architecture Loupe builds for, so a node without it is where it fails.
 */
export function probeOptionsError(spec: ProbeSpec, arch: SyscallArch = NODE_SYSCALL_ARCH): string | undefined {
  if (spec.name !== 'syscalls') return undefined;
  const unknown = (spec.only ?? []).find((name) => syscallNumber(name, arch) === undefined);
  return unknown === undefined ? undefined : `syscalls.only: unknown syscall ${JSON.stringify(unknown)} on this node (${arch})`;
}

/** Only the syscalls the profile names: counts, errors, top list and latency of those alone. */
export function syscallsForProfile(spec: ProbeSpecOf<'syscalls'>, delta: SyscallsDelta): SyscallsResult | undefined {
  const { latencyBySyscall, ...result } = delta;
  if (spec.only === undefined) return result;
  const only = new Set(spec.only);
  const topSyscalls = result.topSyscalls.filter((e) => only.has(e.key));
  const calls = topSyscalls.reduce((sum, e) => sum + e.count, 0);
  if (calls === 0) return undefined;
  const histograms = spec.only.flatMap((name) => latencyBySyscall?.get(name) ?? []);
  return {
    calls,
    errors: topSyscalls.reduce((sum, e) => sum + (e.errors ?? 0), 0),
    latencyNs: summarizeLatency(mergeHistograms(...histograms)),
    topSyscalls,
  };
}

/**
 * Only the paths under the profile's prefixes (plain string prefixes, matched
 * against the path as the process passed it). Opens the kernel could not
 * count by path (its map was full) have no path, so a filter drops them.
 */
export function filesForProfile(spec: ProbeSpecOf<'files'>, delta: FilesResult): FilesResult | undefined {
  const prefixes = spec.pathPrefixes;
  if (prefixes === undefined) return delta;
  const topPaths = delta.topPaths.filter((e) => prefixes.some((prefix) => e.key.startsWith(prefix)));
  const opens = topPaths.reduce((sum, e) => sum + e.count, 0);
  if (opens === 0) return undefined;
  return { opens, errors: topPaths.reduce((sum, e) => sum + (e.errors ?? 0), 0), topPaths };
}

/**
 * What a profile with these options gets of one cgroup's delta: a public
 * result (no reader-internal fields), or undefined when nothing passes.
 */
export function resultForProfile<N extends ProbeName>(spec: ProbeSpecOf<N>, delta: ProbeResult<N>): ProbeResult<N> | undefined {
  const options: ProbeSpec = spec;
  switch (options.name) {
    case 'syscalls':
      return syscallsForProfile(options, delta as SyscallsDelta) as ProbeResult<N> | undefined;
    case 'files':
      return filesForProfile(options, delta as FilesResult) as ProbeResult<N> | undefined;
    default:
      return delta;
  }
}
