// Per-container probe results → OTLP metrics, built as the SDK's MetricData so
// its exporters serialize them: counts are cumulative monotonic sums, latency
// histograms are exponential histograms at scale 0 taken bucket for bucket
// from the kernel's log2 histograms (the SDK's Meter API cannot ingest
// pre-bucketed data). Durations stay in ns: in seconds the bucket bounds would
// no longer be powers of two and the export would not be lossless.
import { ValueType, type Attributes } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  type ExponentialHistogramMetricData,
  type MetricData,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { histogramCount, OTLP_BUCKET_OFFSET, type Log2Histogram } from '../../api/histogram.js';
import { MAX_TOP_N, PROBE_NAMES, type ProbeName, type ProbeResults, type TopEntry } from '../../api/results.js';

export interface MetricDefinition {
  name: string;
  unit: string;
  description: string;
}

const TOP = `Only the profile's top-N keys (at most ${MAX_TOP_N}) have points.`;

/** Every metric Loupe exports, so names and units live in one place. */
export const LOUPE_METRICS = {
  execs: { name: 'loupe.exec.execs', unit: '{exec}', description: 'Successful execve/execveat calls.' },
  exits: { name: 'loupe.exec.exits', unit: '{exit}', description: 'Processes that exited.' },
  commandExecs: { name: 'loupe.exec.command.execs', unit: '{exec}', description: `Execs per program (process.executable.path). ${TOP}` },
  syscalls: { name: 'loupe.syscalls.calls', unit: '{call}', description: 'System calls.' },
  syscallErrors: { name: 'loupe.syscalls.errors', unit: '{call}', description: 'System calls that returned a negative errno.' },
  syscallDuration: { name: 'loupe.syscalls.duration', unit: 'ns', description: 'Time from sys_enter to sys_exit, all system calls.' },
  syscallCalls: { name: 'loupe.syscalls.syscall.calls', unit: '{call}', description: `Calls per system call (loupe.syscall.name). ${TOP}` },
  syscallCallErrors: { name: 'loupe.syscalls.syscall.errors', unit: '{call}', description: `Failed calls per system call (loupe.syscall.name). ${TOP}` },
  opens: { name: 'loupe.files.opens', unit: '{open}', description: 'open/openat/openat2 calls.' },
  openErrors: { name: 'loupe.files.errors', unit: '{open}', description: 'Opens that failed.' },
  pathOpens: { name: 'loupe.files.path.opens', unit: '{open}', description: `Opens per path (file.path), failed ones included. ${TOP}` },
  pathErrors: { name: 'loupe.files.path.errors', unit: '{open}', description: `Failed opens per path (file.path). ${TOP}` },
  tcpOutbound: { name: 'loupe.tcp.connections.outbound', unit: '{connection}', description: 'Outgoing connections that were established.' },
  tcpFailed: { name: 'loupe.tcp.connections.failed', unit: '{connection}', description: 'Outgoing connections that failed (refused, reset, timed out).' },
  tcpInbound: { name: 'loupe.tcp.connections.inbound', unit: '{connection}', description: 'Incoming connections that were established.' },
  tcpClosed: { name: 'loupe.tcp.connections.closed', unit: '{connection}', description: 'Connections closed after being established.' },
  tcpIo: { name: 'loupe.tcp.io', unit: 'By', description: 'Bytes sent (network.io.direction=transmit) and received (receive) on closed connections.' },
  tcpRetransmits: { name: 'loupe.tcp.retransmits', unit: '{segment}', description: 'Retransmitted TCP segments.' },
  tcpDuration: { name: 'loupe.tcp.connection.duration', unit: 'ns', description: 'Lifetime of closed connections.' },
  peerConnections: { name: 'loupe.tcp.peer.connections', unit: '{connection}', description: `Outgoing connection attempts per peer (network.peer.address, network.peer.port). ${TOP}` },
  peerFailures: { name: 'loupe.tcp.peer.failures', unit: '{connection}', description: `Failed outgoing connections per peer. ${TOP}` },
  runqueueLatency: { name: 'loupe.runqlat.latency', unit: 'ns', description: 'Time runnable threads waited for a CPU (run-queue latency).' },
  runqueueCommandWaits: { name: 'loupe.runqlat.command.waits', unit: '{wait}', description: `Run-queue waits per thread name (process.executable.name). ${TOP}` },
  oomKills: { name: 'loupe.oomkill.kills', unit: '{process}', description: 'Processes the kernel OOM killer chose as victims.' },
  oomCommandKills: { name: 'loupe.oomkill.command.kills', unit: '{process}', description: `OOM kills per command (process.executable.name). ${TOP}` },
  blockRequests: { name: 'loupe.biolatency.requests', unit: '{request}', description: 'Block I/O requests completed.' },
  blockErrors: { name: 'loupe.biolatency.errors', unit: '{request}', description: 'Block I/O requests that completed with an error.' },
  blockIo: { name: 'loupe.biolatency.io', unit: 'By', description: 'Bytes read (disk.io.direction=read) and written (write).' },
  blockDuration: { name: 'loupe.biolatency.duration', unit: 'ns', description: 'Time from submission to completion of block I/O requests.' },
  deviceRequests: { name: 'loupe.biolatency.device.requests', unit: '{request}', description: `Block I/O requests per device (system.device). ${TOP}` },
  deviceErrors: { name: 'loupe.biolatency.device.errors', unit: '{request}', description: `Failed block I/O requests per device (system.device). ${TOP}` },
  ipIo: { name: 'loupe.netbytes.io', unit: 'By', description: 'IP bytes, headers included, sent (network.io.direction=transmit) and received (receive).' },
  ipPackets: { name: 'loupe.netbytes.packets', unit: '{packet}', description: 'IP packets sent (network.io.direction=transmit) and received (receive).' },
  protocolPackets: { name: 'loupe.netbytes.protocol.packets', unit: '{packet}', description: `IP packets per protocol (network.transport: tcp, udp, icmp, …), both directions. ${TOP}` },
  profileSamples: { name: 'loupe.profile.samples', unit: '{sample}', description: 'On-CPU stack samples, at the rate the node sampled at when each was taken (it can change): a count, not a time.' },
  profileCpuTime: { name: 'loupe.profile.cpu.time', unit: 'ns', description: 'On-CPU time of the sampled threads: each sample weighted by the sampling period in force when it was taken.' },
  functionSamples: { name: 'loupe.profile.function.samples', unit: '{sample}', description: `Samples per leaf function (code.function.name: "function (module)"). ${TOP}` },
  functionCpuTime: { name: 'loupe.profile.function.cpu.time', unit: 'ns', description: `On-CPU time per leaf function (code.function.name: "function (module)"). ${TOP}` },
} as const satisfies Record<string, MetricDefinition>;

/** The value of an OTLP exponential histogram data point, as the SDK holds it. */
export interface ExponentialHistogramValue {
  count: number;
  scale: number;
  zeroCount: number;
  positive: { offset: number; bucketCounts: number[] };
  negative: { offset: number; bucketCounts: number[] };
}

/** Our slot k is OTLP scale-0 index k - 1, so the buckets go over as they are. */
export function exponentialHistogramOf(h: Log2Histogram): ExponentialHistogramValue {
  return {
    count: histogramCount(h),
    scale: 0,
    zeroCount: h.zeroCount,
    positive: { offset: OTLP_BUCKET_OFFSET, bucketCounts: [...h.buckets] },
    negative: { offset: 0, bucketCounts: [] },
  };
}

/** When a series began and when it was read: a cumulative point's interval. */
export interface PointTimes {
  startTimeMs: number;
  nowMs: number;
}

interface Point {
  value: number;
  attributes?: Attributes;
}

function sum(definition: MetricDefinition, times: PointTimes, points: Point[]): SumMetricData {
  const startTime = millisToHrTime(times.startTimeMs);
  const endTime = millisToHrTime(times.nowMs);
  return {
    descriptor: { ...definition, valueType: ValueType.INT },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: points.map((p) => ({ startTime, endTime, attributes: p.attributes ?? {}, value: p.value })),
  };
}

function histogram(definition: MetricDefinition, times: PointTimes, h: Log2Histogram): ExponentialHistogramMetricData {
  return {
    descriptor: { ...definition, valueType: ValueType.INT },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
    dataPoints: [
      { startTime: millisToHrTime(times.startTimeMs), endTime: millisToHrTime(times.nowMs), attributes: {}, value: exponentialHistogramOf(h) },
    ],
  };
}

/** Count and error series of a top list; a list without errors yields no error metric. */
function topList(
  counts: MetricDefinition,
  errors: MetricDefinition | undefined,
  entries: readonly TopEntry[],
  attributesOf: (key: string) => Attributes,
  times: PointTimes,
): MetricData[] {
  // Lists come sorted and cut to the profile's N; the cap guards cardinality if one is not.
  const top = entries.slice(0, MAX_TOP_N);
  if (top.length === 0) return [];
  const metrics: MetricData[] = [sum(counts, times, top.map((e) => ({ value: e.count, attributes: attributesOf(e.key) })))];
  const withErrors = top.filter((e) => e.errors !== undefined);
  if (errors && withErrors.length > 0) {
    metrics.push(sum(errors, times, withErrors.map((e) => ({ value: e.errors ?? 0, attributes: attributesOf(e.key) }))));
  }
  return metrics;
}

/** "1.2.3.4:80" or "[::1]:80" (tcp's topPeers keys) → network.peer.address and .port. */
export function peerAttributes(key: string): Attributes {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(key);
  return match ? { 'network.peer.address': match[1]!, 'network.peer.port': Number(match[2]) } : { 'network.peer.address': key };
}

type ResultOf<N extends ProbeName> = NonNullable<ProbeResults[N]>;

const M = LOUPE_METRICS;
const io = (key: string, out: number, into: number, outName: string, inName: string): Point[] => [
  { value: out, attributes: { [key]: outName } },
  { value: into, attributes: { [key]: inName } },
];

/** Each probe's metrics; typed over every probe name so a new probe cannot go unexported. */
const metricsOfProbe: { [N in ProbeName]: (r: ResultOf<N>, times: PointTimes) => MetricData[] } = {
  exec: (r, t) => [
    sum(M.execs, t, [{ value: r.execs }]),
    sum(M.exits, t, [{ value: r.exits }]),
    ...topList(M.commandExecs, undefined, r.topCommands, (k) => ({ 'process.executable.path': k }), t),
  ],
  syscalls: (r, t) => [
    sum(M.syscalls, t, [{ value: r.calls }]),
    sum(M.syscallErrors, t, [{ value: r.errors }]),
    histogram(M.syscallDuration, t, r.latencyNs.histogram),
    ...topList(M.syscallCalls, M.syscallCallErrors, r.topSyscalls, (k) => ({ 'loupe.syscall.name': k }), t),
  ],
  files: (r, t) => [
    sum(M.opens, t, [{ value: r.opens }]),
    sum(M.openErrors, t, [{ value: r.errors }]),
    ...topList(M.pathOpens, M.pathErrors, r.topPaths, (k) => ({ 'file.path': k }), t),
  ],
  tcp: (r, t) => [
    sum(M.tcpOutbound, t, [{ value: r.connects }]),
    sum(M.tcpFailed, t, [{ value: r.connectFailures }]),
    sum(M.tcpInbound, t, [{ value: r.accepts }]),
    sum(M.tcpClosed, t, [{ value: r.closed }]),
    sum(M.tcpIo, t, io('network.io.direction', r.bytesSent, r.bytesReceived, 'transmit', 'receive')),
    sum(M.tcpRetransmits, t, [{ value: r.retransmits }]),
    histogram(M.tcpDuration, t, r.durationNs.histogram),
    ...topList(M.peerConnections, M.peerFailures, r.topPeers, peerAttributes, t),
  ],
  runqlat: (r, t) => [
    histogram(M.runqueueLatency, t, r.latencyNs.histogram),
    ...topList(M.runqueueCommandWaits, undefined, r.topCommands, (k) => ({ 'process.executable.name': k }), t),
  ],
  oomkill: (r, t) => [
    sum(M.oomKills, t, [{ value: r.kills }]),
    ...topList(M.oomCommandKills, undefined, r.topCommands, (k) => ({ 'process.executable.name': k }), t),
  ],
  biolatency: (r, t) => [
    sum(M.blockRequests, t, [{ value: r.ios }]),
    sum(M.blockErrors, t, [{ value: r.errors }]),
    sum(M.blockIo, t, io('disk.io.direction', r.bytesRead, r.bytesWritten, 'read', 'write')),
    histogram(M.blockDuration, t, r.latencyNs.histogram),
    ...topList(M.deviceRequests, M.deviceErrors, r.topDevices, (k) => ({ 'system.device': k }), t),
  ],
  netbytes: (r, t) => [
    sum(M.ipIo, t, io('network.io.direction', r.bytesSent, r.bytesReceived, 'transmit', 'receive')),
    sum(M.ipPackets, t, io('network.io.direction', r.packetsSent, r.packetsReceived, 'transmit', 'receive')),
    ...topList(M.protocolPackets, undefined, r.topProtocols, (k) => ({ 'network.transport': k }), t),
  ],
  profile: (r, t) => {
    const timed = r.topFrames.slice(0, MAX_TOP_N).filter((e) => e.cpuNs !== undefined);
    return [
      sum(M.profileSamples, t, [{ value: r.samples }]),
      ...(r.cpuNs === undefined ? [] : [sum(M.profileCpuTime, t, [{ value: r.cpuNs }])]),
      ...topList(M.functionSamples, undefined, r.topFrames, (k) => ({ 'code.function.name': k }), t),
      ...(timed.length === 0
        ? []
        : [sum(M.functionCpuTime, t, timed.map((e) => ({ value: e.cpuNs ?? 0, attributes: { 'code.function.name': e.key } })))]),
    ];
  },
};

function metricsOf<N extends ProbeName>(name: N, result: ResultOf<N> | undefined, times: PointTimes): MetricData[] {
  return result === undefined ? [] : metricsOfProbe[name](result, times);
}

/** All metrics of one container's cumulative results; probes that did not run yield none. */
export function metricsOfResults(results: ProbeResults, times: PointTimes): MetricData[] {
  return PROBE_NAMES.flatMap((name) => metricsOf(name, results[name], times));
}

export function dataPointCount(metrics: readonly MetricData[]): number {
  return metrics.reduce((n, metric) => n + metric.dataPoints.length, 0);
}
