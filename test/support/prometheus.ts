// A real Prometheus for tests (3.x, built by hack/build-controlplane.sh from
// the Go module proxy): on loopback with a temporary data directory, taking
// OTLP on its own receiver with Loupe's resource attributes promoted to
// labels, as the README tells users to configure it. Its HTTP API answers
// are checked with zod, since they come from another program.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { z } from 'zod';
import { controlPlaneBinDir } from '../../hack/local-cluster/control-plane-binaries.js';
import { freeLoopbackPorts } from '../../hack/local-cluster/loopback-ports.js';
import { startServerProcess } from '../../hack/local-cluster/server-process.js';

export const prometheusBinary = () => join(controlPlaneBinDir(), 'prometheus');

/** The resource attributes every Loupe series carries, which the dashboards filter by. */
export const PROMOTED_RESOURCE_ATTRIBUTES = ['k8s.namespace.name', 'k8s.pod.name', 'k8s.pod.uid', 'k8s.container.name', 'k8s.node.name', 'loupe.profile'];

/** Why Prometheus cannot run here, or undefined when it can. */
export function prometheusBlocker(): string | undefined {
  return existsSync(prometheusBinary()) ? undefined : `${prometheusBinary()} is missing: run hack/build-controlplane.sh`;
}

/** One series of a query's answer: its labels, and its float or native histogram samples. */
const SeriesSchema = z.object({
  metric: z.record(z.string(), z.string()),
  value: z.tuple([z.number(), z.string()]).optional(),
  values: z.array(z.tuple([z.number(), z.string()])).optional(),
  histogram: z.tuple([z.number(), z.unknown()]).optional(),
  histograms: z.array(z.tuple([z.number(), z.unknown()])).optional(),
});
export type Series = z.infer<typeof SeriesSchema>;

const QueryAnswerSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.object({ resultType: z.enum(['vector', 'matrix']), result: z.array(SeriesSchema) }),
    warnings: z.array(z.string()).optional(),
  }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

const StringsAnswerSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('success'), data: z.array(z.string()) }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

/** A range query as a panel makes it: [start, end] in seconds, every step seconds. */
export interface Range {
  start: number;
  end: number;
  step: number;
}

export interface Prometheus {
  /** http://127.0.0.1:port */
  readonly url: string;
  /** The base URL of its OTLP receiver, for a Collector's otlphttp exporter (which appends /v1/metrics). */
  readonly otlpEndpoint: string;
  /** An instant query at `time` (seconds; default now). Throws with Prometheus's message on a bad query. */
  query(expr: string, time?: number): Promise<Series[]>;
  queryRange(expr: string, range: Range): Promise<Series[]>;
  /** Every metric name Prometheus holds. */
  metricNames(): Promise<string[]>;
  /** label_values(match, label), as Grafana's variable query asks it. */
  labelValues(label: string, match: string): Promise<string[]>;
  logTail(): string;
  stop(): Promise<void>;
}

export async function startPrometheus(): Promise<Prometheus> {
  const workDir = await mkdtemp(join(tmpdir(), 'loupe-prometheus-'));
  const [port] = (await freeLoopbackPorts(1)) as [number];
  const configFile = join(workDir, 'prometheus.yml');
  // Nothing to scrape: every sample arrives over OTLP.
  await writeFile(configFile, stringify({ global: { scrape_interval: '1m' }, otlp: { promote_resource_attributes: PROMOTED_RESOURCE_ATTRIBUTES } }));
  const url = `http://127.0.0.1:${port}`;
  const server = startServerProcess(
    'prometheus',
    prometheusBinary(),
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(workDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Loupe's ns histograms, OTLP exponential histograms at scale 0, arrive as native histograms.
      '--web.enable-otlp-receiver',
    ],
    join(workDir, 'prometheus.log'),
  );
  const stop = async () => {
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 30_000;
    while (!(await fetch(`${url}/-/ready`).then((r) => r.ok, () => false))) {
      if (server.exitStatus() !== undefined) throw new Error(`prometheus exited (${server.exitStatus()})`);
      if (Date.now() > deadline) throw new Error('timed out waiting for prometheus to be ready');
      await sleep(100);
    }
  } catch (err) {
    const log = server.logTail();
    await stop();
    throw new Error(`prometheus did not start: ${(err as Error).message}\n${log}`);
  }

  const get = async (path: string, params: [string, string][]): Promise<unknown> => {
    const response = await fetch(`${url}${path}?${new URLSearchParams(params).toString()}`);
    return response.json();
  };
  const series = async (path: string, params: [string, string][], expr: string): Promise<Series[]> => {
    const answer = QueryAnswerSchema.parse(await get(path, params));
    if (answer.status === 'error') throw new Error(`${answer.errorType}: ${answer.error} (query: ${expr})`);
    return answer.data.result;
  };
  const strings = async (path: string, params: [string, string][]): Promise<string[]> => {
    const answer = StringsAnswerSchema.parse(await get(path, params));
    if (answer.status === 'error') throw new Error(`${answer.errorType}: ${answer.error} (${path})`);
    return answer.data;
  };

  let stopping: Promise<void> | undefined;
  return {
    url,
    otlpEndpoint: `${url}/api/v1/otlp`,
    query: (expr, time = Date.now() / 1000) => series('/api/v1/query', [['query', expr], ['time', String(time)]], expr),
    queryRange: (expr, { start, end, step }) =>
      series('/api/v1/query_range', [['query', expr], ['start', String(start)], ['end', String(end)], ['step', String(step)]], expr),
    metricNames: () => strings('/api/v1/label/__name__/values', []),
    labelValues: (label, match) => strings(`/api/v1/label/${encodeURIComponent(label)}/values`, [['match[]', match]]),
    logTail: () => server.logTail(),
    stop: () => (stopping ??= stop()),
  };
}
