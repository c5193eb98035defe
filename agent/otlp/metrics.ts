// Per-container probe results → OTLP metrics, built as the SDK's MetricData so
// its exporters serialize them: counts are cumulative monotonic sums, latency
// histograms are taken bucket for bucket from the kernel's log2 histograms
// (the SDK's Meter API cannot ingest pre-bucketed data). A duration in ns is
// an exponential histogram at scale 0. A duration in s (the semantic
// conventions' http.server.request.duration, dns.lookup.duration) cannot be
// exponential without loss, since 2^k ns is no power of two in seconds, so it
// is an explicit-bucket histogram whose bounds are exactly 2^k ns in seconds.
import { ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  type ExponentialHistogramMetricData,
  type HistogramMetricData,
  type MetricData,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { HISTOGRAM_BUCKETS, histogramCount, OTLP_BUCKET_OFFSET, type Log2Histogram } from '../../api/histogram.js';
import type { ProbeResults } from '../../api/results.js';
import type { Instrument, MetricDefinition } from '../../probes/probe-descriptor.js';
import { descriptorOf, PROBE_NAMES, PROBES, type ResultOf } from '../../probes/registry.js';

/** Every metric Loupe exports: each probe's, declared in its descriptor. */
export const LOUPE_METRICS: readonly MetricDefinition[] = PROBES.flatMap((p) => Object.values(p.metrics));

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

/** The value of an OTLP explicit-bucket histogram data point, as the SDK holds it. */
export interface ExplicitHistogramValue {
  count: number;
  buckets: { boundaries: number[]; counts: number[] };
}

/**
 * Inclusive upper bounds in seconds: 0 (the zero bucket), then 2^k ns for
 * slots 0..62; slot 63 (everything above 2^62 ns) is the overflow bucket.
 * The same bounds for every point, so a backend can add points of a series.
 */
const SECONDS_BOUNDARIES = [0, ...Array.from({ length: HISTOGRAM_BUCKETS - 1 }, (_, k) => 2 ** k / 1e9)];

export function secondsHistogramOf(h: Log2Histogram): ExplicitHistogramValue {
  const counts = new Array<number>(HISTOGRAM_BUCKETS + 1).fill(0);
  counts[0] = h.zeroCount;
  h.buckets.forEach((c, k) => (counts[k + 1] = c));
  return { count: histogramCount(h), buckets: { boundaries: [...SECONDS_BOUNDARIES], counts } };
}

/** When a series began and when it was read: a cumulative point's interval. */
export interface PointTimes {
  startTimeMs: number;
  nowMs: number;
}

/** One instrument as SDK metric data, its points cumulative from times.startTimeMs. */
export function metricData(instrument: Instrument, times: PointTimes): MetricData {
  const startTime = millisToHrTime(times.startTimeMs);
  const endTime = millisToHrTime(times.nowMs);
  const descriptor = { ...instrument.metric, valueType: ValueType.INT };
  if (instrument.kind === 'histogram' && instrument.metric.unit === 's') {
    const histogram: HistogramMetricData = {
      descriptor: { ...descriptor, valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: instrument.points.map((p) => ({ startTime, endTime, attributes: p.attributes ?? {}, value: secondsHistogramOf(p.histogram) })),
    };
    return histogram;
  }
  if (instrument.kind === 'histogram') {
    const histogram: ExponentialHistogramMetricData = {
      descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
      dataPoints: instrument.points.map((p) => ({ startTime, endTime, attributes: p.attributes ?? {}, value: exponentialHistogramOf(p.histogram) })),
    };
    return histogram;
  }
  const sum: SumMetricData = {
    descriptor,
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: instrument.points.map((p) => ({ startTime, endTime, attributes: p.attributes ?? {}, value: p.value })),
  };
  return sum;
}

/** All metrics of one container's cumulative results, as each probe's descriptor declares them; probes that did not run yield none. */
export function metricsOfResults(results: ProbeResults, times: PointTimes): MetricData[] {
  return PROBE_NAMES.flatMap((probe) => {
    const result = results[probe] as ResultOf<typeof probe> | undefined;
    return result === undefined ? [] : descriptorOf(probe).instruments(result).map((i) => metricData(i, times));
  });
}

export function dataPointCount(metrics: readonly MetricData[]): number {
  return metrics.reduce((n, metric) => n + metric.dataPoints.length, 0);
}
