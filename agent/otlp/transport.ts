// The SDK's OTLP exporters for one endpoint, over gRPC or HTTP/protobuf, as
// two promise-returning sends. A URL's scheme decides TLS (http: plain,
// https: TLS); a bare host:port (gRPC only) is plain text when insecure.
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as HttpMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { createEmptyMetadata, createInsecureCredentials, createSslCredentials } from '@opentelemetry/otlp-grpc-exporter-base';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { OtlpProtocol } from '../../api/otlp.js';

export interface OtlpTransportConfig {
  endpoint: string;
  protocol: OtlpProtocol;
  insecure: boolean;
  /** From the profile's headersSecretRef, resolved by the caller. */
  headers: Record<string, string>;
  /** PEM bundle from tls.caSecretRef; the system roots when absent. */
  caPem?: string;
  /** One export request, the SDK's own quick retries included. */
  timeoutMs: number;
}

export interface OtlpTransport {
  sendMetrics(metrics: ResourceMetrics): Promise<void>;
  sendLogs(records: ReadableLogRecord[]): Promise<void>;
  shutdown(): Promise<void>;
}

interface SdkExporter<T> {
  export(items: T, resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

function send<T>(exporter: SdkExporter<T>, items: T): Promise<void> {
  return new Promise((resolve, reject) => {
    exporter.export(items, (result) => {
      if (result.code === ExportResultCode.SUCCESS) resolve();
      else reject(result.error ?? new Error('OTLP export failed'));
    });
  });
}

/** The gRPC target as a URL: host:port gets the scheme that insecure implies. */
export function grpcUrl(endpoint: string, insecure: boolean): URL {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? new URL(endpoint) : new URL(`${insecure ? 'http' : 'https'}://${endpoint}`);
}

/** OTLP/HTTP's per-signal URL under the endpoint's base (…/v1/metrics, …/v1/logs). */
export function httpSignalUrl(endpoint: string, signal: 'metrics' | 'logs'): string {
  const base = new URL(endpoint);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return new URL(`v1/${signal}`, base).toString();
}

export function createOtlpTransport(config: OtlpTransportConfig): OtlpTransport {
  const ca = config.caPem === undefined ? undefined : Buffer.from(config.caPem);
  let metrics: SdkExporter<ResourceMetrics>;
  let logs: SdkExporter<ReadableLogRecord[]>;
  if (config.protocol === 'grpc') {
    const url = grpcUrl(config.endpoint, config.insecure);
    const common = {
      url: url.toString(),
      credentials: url.protocol === 'http:' ? createInsecureCredentials() : createSslCredentials(ca),
      timeoutMillis: config.timeoutMs,
    };
    const metadata = () => {
      const m = createEmptyMetadata();
      for (const [key, value] of Object.entries(config.headers)) m.set(key.toLowerCase(), value);
      return m;
    };
    metrics = new GrpcMetricExporter({ ...common, metadata: metadata() });
    logs = new GrpcLogExporter({ ...common, metadata: metadata() });
  } else {
    const common = {
      headers: config.headers,
      timeoutMillis: config.timeoutMs,
      ...(ca !== undefined && new URL(config.endpoint).protocol === 'https:' && { httpAgentOptions: { ca } }),
    };
    metrics = new HttpMetricExporter({ ...common, url: httpSignalUrl(config.endpoint, 'metrics') });
    logs = new HttpLogExporter({ ...common, url: httpSignalUrl(config.endpoint, 'logs') });
  }
  return {
    sendMetrics: (resourceMetrics) => send(metrics, resourceMetrics),
    sendLogs: (records) => send(logs, records),
    shutdown: async () => {
      await Promise.allSettled([metrics.shutdown(), logs.shutdown()]);
    },
  };
}
