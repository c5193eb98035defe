// Per-probe results: what a node reports for one profile (NodeTracePlan
// status), what the operator merges into TraceProfile status, and what
// `loupe trace` prints. Every shape is mergeable (sums, log2 histograms,
// top-N lists re-ranked on merge) and bounded (maxItems, maxLength).
import { z } from 'zod';
import { LatencySummarySchema } from './histogram.js';

export const PROBE_NAMES = ['exec', 'syscalls', 'files', 'tcp', 'runqlat', 'oomkill', 'biolatency', 'netbytes', 'profile'] as const;
export const ProbeNameSchema = z.enum(PROBE_NAMES);
export type ProbeName = z.infer<typeof ProbeNameSchema>;

/** Hard ceiling on any top-N list; `output.status.topN` picks at most this. */
export const MAX_TOP_N = 50;
const count = z.number().int().min(0);

export const TopEntrySchema = z.object({
  key: z.string().max(256).describe('What is counted: a command, a path, a syscall, a peer.'),
  count,
  errors: count.optional(),
});
export type TopEntry = z.infer<typeof TopEntrySchema>;
const topList = z.array(TopEntrySchema).max(MAX_TOP_N);

export const ExecResultSchema = z.object({
  execs: count.describe('Successful execve/execveat calls.'),
  exits: count.describe('Processes that exited.'),
  topCommands: topList.describe('Most executed programs (filename), by count.'),
});
export type ExecResult = z.infer<typeof ExecResultSchema>;

export const SyscallsResultSchema = z.object({
  calls: count,
  errors: count.describe('Calls that returned a negative errno.'),
  latencyNs: LatencySummarySchema.describe('Time from sys_enter to sys_exit, all syscalls.'),
  topSyscalls: topList.describe('Most called syscalls by name.'),
});
export type SyscallsResult = z.infer<typeof SyscallsResultSchema>;

export const FilesResultSchema = z.object({
  opens: count.describe('open/openat/openat2 calls.'),
  errors: count.describe('Opens that failed.'),
  topPaths: topList.describe('Most opened paths, with failures in errors.'),
});
export type FilesResult = z.infer<typeof FilesResultSchema>;

export const TcpResultSchema = z.object({
  connects: count.describe('Outgoing connections that were established.'),
  connectFailures: count.describe('Outgoing connections that failed (refused, reset, timed out).'),
  accepts: count.describe('Incoming connections that were established.'),
  closed: count.describe('Connections closed after being established.'),
  bytesSent: count,
  bytesReceived: count,
  retransmits: count,
  durationNs: LatencySummarySchema.describe('Lifetime of closed connections.'),
  topPeers: topList.describe('Remote address:port by connections, failures in errors.'),
});
export type TcpResult = z.infer<typeof TcpResultSchema>;

export const RunqlatResultSchema = z.object({
  latencyNs: LatencySummarySchema.describe('Time from wakeup (or preemption) to running on a CPU: run-queue latency.'),
  topCommands: topList.describe('Threads (comm) by run-queue waits.'),
});
export type RunqlatResult = z.infer<typeof RunqlatResultSchema>;

export const OomkillResultSchema = z.object({
  kills: count.describe('Processes the kernel OOM killer chose as victims.'),
  topCommands: topList.describe('OOM-killed processes by command (comm).'),
});
export type OomkillResult = z.infer<typeof OomkillResultSchema>;

export const BiolatencyResultSchema = z.object({
  ios: count.describe('Block I/O requests completed.'),
  errors: count.describe('Requests that completed with an error.'),
  bytesRead: count,
  bytesWritten: count,
  latencyNs: LatencySummarySchema.describe('Time from submission (a new request) to completion.'),
  topDevices: topList.describe('Block devices by requests, failures in errors.'),
});
export type BiolatencyResult = z.infer<typeof BiolatencyResultSchema>;

export const NetbytesResultSchema = z.object({
  bytesSent: count.describe('IP bytes sent (headers included).'),
  bytesReceived: count.describe('IP bytes received (headers included).'),
  packetsSent: count,
  packetsReceived: count,
  topProtocols: topList.describe('IP protocols (tcp, udp, icmp, other) by packets, both directions.'),
});
export type NetbytesResult = z.infer<typeof NetbytesResultSchema>;

/**
 * The sampling rate is per node and can change mid-run (a profile asking for
 * more, a budget widening it), so a sample stands for a different CPU time on
 * different nodes and intervals: only `cpuNs`, each sample weighted by the
 * period in force when it was taken, adds up across them. `count` stays the
 * number of samples and is never turned into time with one period.
 */
const cpuNs = count.describe(
  'On-CPU time in nanoseconds: each sample weighted by the sampling period in force when it was taken. Absent when a node did not report it.',
);
export const ProfileTopEntrySchema = TopEntrySchema.extend({ cpuNs: cpuNs.optional() });
export type ProfileTopEntry = z.infer<typeof ProfileTopEntrySchema>;
const profileTopList = z.array(ProfileTopEntrySchema).max(MAX_TOP_N);

export const ProfileResultSchema = z.object({
  samples: count.describe('On-CPU stack samples of the pods\' threads: a count, taken at whatever rate each node sampled; see cpuNs for time.'),
  cpuNs: cpuNs.optional(),
  topFrames: profileTopList.describe('Leaf ("self") functions by CPU time, as "function (module)"; [unknown] when the module has no symbols.'),
  topStacks: profileTopList.describe('Whole stacks by CPU time, folded (command;outermost;…;leaf, kernel frames marked _[k]), cut at the root end.'),
});
export type ProfileResult = z.infer<typeof ProfileResultSchema>;

export const ProbeResultsSchema = z.object({
  exec: ExecResultSchema.optional(),
  syscalls: SyscallsResultSchema.optional(),
  files: FilesResultSchema.optional(),
  tcp: TcpResultSchema.optional(),
  runqlat: RunqlatResultSchema.optional(),
  oomkill: OomkillResultSchema.optional(),
  biolatency: BiolatencyResultSchema.optional(),
  netbytes: NetbytesResultSchema.optional(),
  profile: ProfileResultSchema.optional(),
});
export type ProbeResults = z.infer<typeof ProbeResultsSchema>;
