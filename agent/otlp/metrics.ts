// Per-container probe results → OTLP metrics, built as the SDK's MetricData so
// its exporters serialize them: counts are cumulative monotonic sums, latency
// histograms are exponential histograms at scale 0 taken bucket for bucket
// from the kernel's log2 histograms (the SDK's Meter API cannot ingest
// pre-bucketed data). Durations stay in ns: in seconds the bucket bounds would
// no longer be powers of two and the export would not be lossless.
import { ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  type ExponentialHistogramMetricData,
  type MetricData,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { histogramCount, OTLP_BUCKET_OFFSET, type Log2Histogram } from '../../api/histogram.js';
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

/** When a series began and when it was read: a cumulative point's interval. */
export interface PointTimes {
  startTimeMs: number;
  nowMs: number;
}

function metricData(instrument: Instrument, times: PointTimes): MetricData {
  const startTime = millisToHrTime(times.startTimeMs);
  const endTime = millisToHrTime(times.nowMs);
  const descriptor = { ...instrument.metric, valueType: ValueType.INT };
  if (instrument.kind === 'histogram') {
    const histogram: ExponentialHistogramMetricData = {
      descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
      dataPoints: [{ startTime, endTime, attributes: {}, value: exponentialHistogramOf(instrument.histogram) }],
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
