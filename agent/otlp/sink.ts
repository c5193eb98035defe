// One profile's OTLP output: the node agent hands it cumulative results per
// container and rare events; it maps them to OTLP metrics and logs, queues
// them (bounded, drop-oldest, counted) and exports in the background with
// retries, so a collector that is away never throws into or blocks the caller.
import type { InstrumentationScope } from '@opentelemetry/core';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import pino, { type Logger } from 'pino';
import type { OtlpProtocol } from '../../api/otlp.js';
import type { ProbeResults } from '../../api/results.js';
import type { ProbeEvent } from '../../engine/probes/probe.js';
import { ExportQueue, type Backoff } from './export-queue.js';
import { logRecordOf } from './logs.js';
import { dataPointCount, metricsOfResults } from './metrics.js';
import { ResourceCache, type OtlpTarget } from './resource.js';
import { createOtlpTransport, type OtlpTransport } from './transport.js';

export interface OtlpSinkConfig {
  endpoint: string;
  protocol: OtlpProtocol;
  insecure: boolean;
  headers: Record<string, string>;
  caPem?: string;
  resourceAttributes?: Record<string, string>;
  nodeName: string;
  profile: { namespace: string; name: string };
  limits?: Partial<OtlpSinkLimits>;
  logger?: Logger;
}

export interface OtlpSinkLimits {
  /** Pending exportResults() calls; beyond it the oldest is dropped. */
  maxMetricBatches: number;
  /** Pending log records; beyond it the oldest batch is dropped. */
  maxLogRecords: number;
  /** Records per log export request. */
  logBatchSize: number;
  /** Requests to different containers' resources in flight at once. */
  metricConcurrency: number;
  exportTimeoutMs: number;
  backoff: Backoff;
}

export const DEFAULT_OTLP_SINK_LIMITS: OtlpSinkLimits = {
  maxMetricBatches: 32,
  maxLogRecords: 8192,
  logBatchSize: 512,
  metricConcurrency: 8,
  exportTimeoutMs: 10_000,
  backoff: { initialMs: 500, maxMs: 30_000 },
};

/** One container's cumulative results since startTimeMs, which stays fixed while they only grow. */
export interface OtlpTargetResults extends OtlpTarget {
  results: ProbeResults;
  startTimeMs: number;
}

export interface OtlpTargetEvent {
  event: ProbeEvent;
  target: OtlpTarget;
}

export interface OtlpSinkStats {
  exportedMetricPoints: number;
  exportedLogRecords: number;
  droppedMetricBatches: number;
  droppedLogRecords: number;
  pendingMetricBatches: number;
  pendingLogRecords: number;
  /** Why exports are failing (metrics first, then logs); absent once each signal's next export succeeds. */
  lastError?: string;
}

export interface OtlpSink {
  /** Queues one snapshot of every target's cumulative results; never throws for the collector. */
  exportResults(targets: readonly OtlpTargetResults[], nowMs?: number): void;
  exportEvents(events: readonly OtlpTargetEvent[]): void;
  stats(): OtlpSinkStats;
  /** Tries to send what is pending for up to timeoutMs, then drops the rest (counted). */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** One exportResults() call: one request per container resource, those not yet sent. */
interface MetricsBatch {
  unsent: { resourceMetrics: ResourceMetrics; points: number }[];
}

const SCOPE: InstrumentationScope = { name: 'loupe' };

export function createOtlpSink(config: OtlpSinkConfig, transport?: OtlpTransport): OtlpSink {
  const limits = { ...DEFAULT_OTLP_SINK_LIMITS, ...config.limits };
  const log = config.logger ?? pino({ level: 'silent' });
  const exporter =
    transport ??
    createOtlpTransport({
      endpoint: config.endpoint,
      protocol: config.protocol,
      insecure: config.insecure,
      headers: config.headers,
      timeoutMs: limits.exportTimeoutMs,
      ...(config.caPem !== undefined && { caPem: config.caPem }),
    });
  const resources = new ResourceCache({
    nodeName: config.nodeName,
    profile: config.profile,
    ...(config.resourceAttributes !== undefined && { extraAttributes: config.resourceAttributes }),
  });
  const counters = { exportedMetricPoints: 0, exportedLogRecords: 0, droppedMetricBatches: 0, droppedLogRecords: 0 };
  // Per signal, so logs that recover do not hide metrics that still fail.
  const failing: { metrics?: string; logs?: string } = {};
  const lastError = () => failing.metrics ?? failing.logs;
  const failed = (signal: 'metrics' | 'logs') => (error: Error) => {
    // Log the transition into failure once, not every retry.
    if (failing[signal] === undefined) log.warn({ err: error, endpoint: config.endpoint, signal }, 'OTLP export failing; retrying with backoff');
    failing[signal] = error.message;
  };
  const succeeded = (signal: 'metrics' | 'logs') => () => {
    if (failing[signal] !== undefined) log.info({ endpoint: config.endpoint, signal }, 'OTLP export recovered');
    delete failing[signal];
  };

  const sendMetrics = async (batch: MetricsBatch): Promise<void> => {
    // Sent resources leave the batch, so a retry resends only what failed.
    const failures: { item: MetricsBatch['unsent'][number]; reason: unknown }[] = [];
    for (let i = 0; i < batch.unsent.length; i += limits.metricConcurrency) {
      const group = batch.unsent.slice(i, i + limits.metricConcurrency);
      const settled = await Promise.allSettled(group.map((item) => exporter.sendMetrics(item.resourceMetrics)));
      settled.forEach((outcome, j) => {
        const item = group[j]!;
        if (outcome.status === 'fulfilled') counters.exportedMetricPoints += item.points;
        else failures.push({ item, reason: outcome.reason });
      });
    }
    batch.unsent = failures.map((f) => f.item);
    if (failures.length > 0) throw failures[0]!.reason;
  };

  const metricsQueue = new ExportQueue<MetricsBatch>({
    send: sendMetrics,
    sizeOf: () => 1,
    capacity: limits.maxMetricBatches,
    onDropped: () => counters.droppedMetricBatches++,
    onFailed: failed('metrics'),
    onSucceeded: succeeded('metrics'),
    backoff: limits.backoff,
  });
  const logsQueue = new ExportQueue<ReadableLogRecord[]>({
    send: async (records) => {
      await exporter.sendLogs(records);
      counters.exportedLogRecords += records.length;
    },
    sizeOf: (records) => records.length,
    capacity: limits.maxLogRecords,
    onDropped: (records) => (counters.droppedLogRecords += records.length),
    onFailed: failed('logs'),
    onSucceeded: succeeded('logs'),
    backoff: limits.backoff,
  });

  return {
    exportResults(targets, nowMs = Date.now()) {
      const unsent = targets.flatMap((target) => {
        const metrics = metricsOfResults(target.results, { startTimeMs: target.startTimeMs, nowMs });
        const points = dataPointCount(metrics);
        if (points === 0) return [];
        return [{ resourceMetrics: { resource: resources.get(target), scopeMetrics: [{ scope: SCOPE, metrics }] }, points }];
      });
      if (unsent.length > 0) metricsQueue.push({ unsent });
    },

    exportEvents(events) {
      const observedMs = Date.now();
      const records = events.map(({ event, target }) => logRecordOf(event, resources.get(target), SCOPE, observedMs));
      for (let i = 0; i < records.length; i += limits.logBatchSize) logsQueue.push(records.slice(i, i + limits.logBatchSize));
    },

    stats() {
      return {
        ...counters,
        pendingMetricBatches: metricsQueue.size,
        pendingLogRecords: logsQueue.size,
        ...(lastError() !== undefined && { lastError: lastError() }),
      };
    },

    async shutdown(timeoutMs = 5_000) {
      await Promise.all([metricsQueue.flush(timeoutMs), logsQueue.flush(timeoutMs)]);
      metricsQueue.close();
      logsQueue.close();
      await exporter.shutdown();
    },
  };
}
