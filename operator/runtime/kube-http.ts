// JSON requests to the API server, authenticated and TLS-configured by
// client-node's KubeConfig. We speak HTTP directly rather than through the
// generated API classes so that every patch states its Content-Type
// explicitly (CustomObjectsApi would default to json-patch) and so that
// objects stay plain JSON, identical to what watches deliver.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from './api-error.js';

export type QueryValue = string | number | boolean | undefined;

export interface KubeRequest {
  query?: Record<string, QueryValue>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

export class KubeHttp {
  /**
   * client-node builds a new https.Agent per request, i.e. a TLS handshake per
   * API call; one keep-alive agent with the same TLS settings reuses connections.
   */
  private keepAliveAgent?: https.Agent;

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly defaultTimeoutMs = 30_000,
  ) {}

  async request<T>(method: string, path: string, request: KubeRequest = {}): Promise<T> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error('kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const options: https.RequestOptions = { method, headers: { Accept: 'application/json' } };
    await this.kubeConfig.applyToHTTPSOptions(options);
    const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
    if (payload !== undefined) {
      options.headers = { ...options.headers, 'Content-Type': request.contentType ?? 'application/json', 'Content-Length': payload.length };
    }
    const transport = url.protocol === 'http:' ? http : https;
    if (transport === http) delete options.agent;
    else if (options.agent instanceof https.Agent) {
      this.keepAliveAgent ??= new https.Agent({ ...options.agent.options, keepAlive: true });
      options.agent = this.keepAliveAgent;
    }
    const timeoutMs = request.timeoutMs ?? this.defaultTimeoutMs;

    const { statusCode, text } = await new Promise<{ statusCode: number; text: string }>((resolve, reject) => {
      const req = transport.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no response within ${timeoutMs}ms`)));
      req.on('error', reject);
      req.end(payload);
    });

    const parsed: unknown = text === '' ? undefined : parseJson(text);
    if (statusCode >= 200 && statusCode < 300) return parsed as T;
    const status = isStatus(parsed) ? parsed : { reason: '', message: text.slice(0, 500) };
    throw new ApiError(statusCode, status.reason ?? '', status.message ?? '', method, path);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isStatus(value: unknown): value is { reason?: string; message?: string } {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Status';
}
