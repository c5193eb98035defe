// JSON requests and watches to the API server, authenticated and
// TLS-configured by client-node's KubeConfig. We speak HTTP directly rather
// than through the generated API classes so that every patch states its
// Content-Type explicitly (CustomObjectsApi would default to json-patch) and
// so that objects stay plain JSON, identical to what watches deliver.
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
    const { url, options, transport } = await this.prepare(method, path, request.query);
    const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
    if (payload !== undefined) {
      options.headers = { ...options.headers, 'Content-Type': request.contentType ?? 'application/json', 'Content-Length': payload.length };
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
    throw apiErrorOf(statusCode, parsed, text, method, path);
  }

  /**
   * Streams a watch (?watch=true): onEvent per event line until the server
   * ends it (at its timeoutSeconds), the connection fails, nothing at all
   * arrives for idleTimeoutMs, or abort(). onClose runs once, with the error
   * if there was one (an ApiError when the server refused the watch), and not
   * after abort(). Ours rather than client-node's Watch, which since 2.0
   * aborts a watch after 30 s without a byte: on a quiet resource the API
   * server can send nothing, not even a bookmark, until the watch's
   * timeoutSeconds; the idle limit defaults to watchIdleTimeoutMs(query).
   */
  async watch(
    path: string,
    query: Record<string, QueryValue>,
    onEvent: (type: string, object: unknown) => void,
    onClose: (error?: unknown) => void,
    idleTimeoutMs = watchIdleTimeoutMs(query),
  ): Promise<WatchStream> {
    const { url, options, transport } = await this.prepare('GET', path, { ...query, watch: true });
    let closed = false;
    const close = (error?: unknown): void => {
      if (closed) return;
      closed = true;
      req.destroy();
      onClose(error);
    };
    const req = transport.request(url, options, (res) => {
      res.setEncoding('utf8');
      let text = '';
      if (res.statusCode !== 200) {
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => close(apiErrorOf(res.statusCode ?? 0, parseJson(text), text, 'WATCH', path)));
        return;
      }
      res.on('data', (chunk: string) => {
        text += chunk;
        let newline: number;
        while (!closed && (newline = text.indexOf('\n')) >= 0) {
          const line = text.slice(0, newline);
          text = text.slice(newline + 1);
          if (line.trim() === '') continue;
          const event = parseJson(line) as { type?: unknown; object?: unknown };
          if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
            close(new Error(`WATCH ${path}: not a watch event: ${line.slice(0, 200)}`));
            return;
          }
          onEvent(event.type, event.object);
        }
      });
      res.on('end', () => close());
      res.on('close', () => close(res.complete ? undefined : new Error(`WATCH ${path}: connection closed mid-stream`)));
    });
    req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`WATCH ${path}: nothing received for ${idleTimeoutMs}ms`)));
    req.on('error', (error) => close(error));
    req.end();
    return {
      abort: () => {
        closed = true;
        req.destroy();
      },
    };
  }

  /** The URL and request options for path: TLS and credentials from the kubeconfig, one keep-alive agent. */
  private async prepare(method: string, path: string, query: Record<string, QueryValue> = {}) {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error('kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const options: https.RequestOptions = { method, headers: { Accept: 'application/json' } };
    await this.kubeConfig.applyToHTTPSOptions(options);
    const transport = url.protocol === 'http:' ? http : https;
    if (transport === http) delete options.agent;
    else if (options.agent instanceof https.Agent) {
      this.keepAliveAgent ??= new https.Agent({ ...options.agent.options, keepAlive: true });
      options.agent = this.keepAliveAgent;
    }
    return { url, options, transport };
  }
}

export interface WatchStream {
  abort(): void;
}

/**
 * A little past the time the server ends the watch anyway (its timeoutSeconds,
 * or at most the 60 min that the default --min-request-timeout allows): the
 * limit only catches a dead connection, never a quiet watch.
 */
export function watchIdleTimeoutMs(query: Record<string, QueryValue>): number {
  const timeoutSeconds = typeof query.timeoutSeconds === 'number' ? query.timeoutSeconds : 3600;
  return (timeoutSeconds + 30) * 1000;
}

function apiErrorOf(statusCode: number, parsed: unknown, text: string, method: string, path: string): ApiError {
  const status = isStatus(parsed) ? parsed : { reason: '', message: text.slice(0, 500) };
  return new ApiError(statusCode, status.reason ?? '', status.message ?? '', method, path);
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
