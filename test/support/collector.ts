// A real OpenTelemetry Collector for tests: OTLP over gRPC and HTTP on
// loopback, every metric and log batch written by the file exporter as one
// OTLP/JSON line, which readMetrics()/readLogs() parse back.
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { controlPlaneBinary } from '../../hack/local-cluster/control-plane-binaries.js';
import { freeLoopbackPorts } from '../../hack/local-cluster/loopback-ports.js';
import { startServerProcess } from '../../hack/local-cluster/server-process.js';

/** OTLP/JSON AnyValue: exactly one field is set. */
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
export interface OtlpKeyValue { key: string; value: OtlpAnyValue }
export interface OtlpResource { attributes?: OtlpKeyValue[] }
export interface OtlpScope { name?: string; version?: string; attributes?: OtlpKeyValue[] }

/** One metric; the data field (sum, gauge, histogram, exponentialHistogram, summary) is left as OTLP/JSON. */
export interface OtlpMetric {
  name: string;
  description?: string;
  unit?: string;
  sum?: Record<string, unknown>;
  gauge?: Record<string, unknown>;
  histogram?: Record<string, unknown>;
  exponentialHistogram?: Record<string, unknown>;
  summary?: Record<string, unknown>;
}
export interface OtlpMetricsData {
  resourceMetrics: { resource?: OtlpResource; scopeMetrics?: { scope?: OtlpScope; metrics?: OtlpMetric[] }[] }[];
}

export interface OtlpLogRecord {
  timeUnixNano?: string;
  severityNumber?: number;
  severityText?: string;
  body?: OtlpAnyValue;
  attributes?: OtlpKeyValue[];
}
export interface OtlpLogsData {
  resourceLogs: { resource?: OtlpResource; scopeLogs?: { scope?: OtlpScope; logRecords?: OtlpLogRecord[] }[] }[];
}

export interface Collector {
  /** host:port of the OTLP/gRPC receiver. */
  readonly grpcEndpoint: string;
  /** http://host:port of the OTLP/HTTP receiver (POST /v1/metrics, /v1/logs). */
  readonly httpEndpoint: string;
  /** The file exporter's output: one OTLP/JSON export request per line. */
  readonly outputFile: string;
  readonly pid: number;
  /** Every metrics batch written so far (the exporter flushes every 100 ms). */
  readMetrics(): Promise<OtlpMetricsData[]>;
  /** Every logs batch written so far. */
  readLogs(): Promise<OtlpLogsData[]>;
  stop(): Promise<void>;
}

export interface CollectorOptions {
  readyTimeoutMs?: number;
  /**
   * More metrics exporters, by the Collector's config key (e.g.
   * `prometheusremotewrite`), each fed every metric beside the file exporter.
   */
  metricsExporters?: Record<string, Record<string, unknown>>;
}

export async function startCollector(options: CollectorOptions = {}): Promise<Collector> {
  const workDir = await mkdtemp(join(tmpdir(), 'loupe-collector-'));
  const [grpcPort, httpPort] = (await freeLoopbackPorts(2)) as [number, number];
  const outputFile = join(workDir, 'otlp.jsonl');
  const configFile = join(workDir, 'config.yaml');
  await writeFile(configFile, stringify({
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `127.0.0.1:${grpcPort}` },
          http: { endpoint: `127.0.0.1:${httpPort}` },
        },
      },
    },
    exporters: { file: { path: outputFile, format: 'json', flush_interval: '100ms' }, ...options.metricsExporters },
    service: {
      // The Collector's own metrics would bind :8888, which parallel collectors share.
      telemetry: { metrics: { level: 'none' }, logs: { level: 'warn' } },
      pipelines: {
        metrics: { receivers: ['otlp'], exporters: ['file', ...Object.keys(options.metricsExporters ?? {})] },
        logs: { receivers: ['otlp'], exporters: ['file'] },
        traces: { receivers: ['otlp'], exporters: ['file'] },
      },
    },
  }));

  const collector = startServerProcess('otelcol', controlPlaneBinary('otelcol'), [`--config=${configFile}`], join(workDir, 'otelcol.log'));
  const stop = async () => {
    await collector.stop();
    await rm(workDir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    for (const port of [grpcPort, httpPort]) {
      while (!(await accepts(port))) {
        if (collector.exitStatus() !== undefined) throw new Error(`otelcol exited (${collector.exitStatus()})`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for otelcol to listen on ${port}`);
        await sleep(100);
      }
    }
  } catch (err) {
    const log = collector.logTail();
    await stop();
    throw new Error(`collector did not start: ${(err as Error).message}\n${log}`);
  }

  const readLines = async (): Promise<Record<string, unknown>[]> => {
    const text = await readFile(outputFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    // The last line may still be being written: only lines ending in \n are whole.
    const whole = text.slice(0, text.lastIndexOf('\n') + 1);
    return whole.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
  };

  let stopping: Promise<void> | undefined;
  return {
    grpcEndpoint: `127.0.0.1:${grpcPort}`,
    httpEndpoint: `http://127.0.0.1:${httpPort}`,
    outputFile,
    pid: collector.pid,
    readMetrics: async () => (await readLines()).filter((line) => 'resourceMetrics' in line) as unknown as OtlpMetricsData[],
    readLogs: async () => (await readLines()).filter((line) => 'resourceLogs' in line) as unknown as OtlpLogsData[],
    stop: () => (stopping ??= stop()),
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
