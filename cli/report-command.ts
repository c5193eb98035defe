// `loupe report`: one self-contained HTML file of a TraceProfile's results
// (read through the kubeconfig) or of a `loupe trace --output json` document,
// with latency heat maps, histograms, the flame graph and sortable tables.
// Prints the file's path. Input it cannot read is one line saying what is
// wrong; a profile without results yet still gets a report that says so.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { loadKubeConfig } from '../kube/kube-config.js';
import { z } from 'zod';
import { KubeHttp } from '../kube/kube-http.js';
import { ResourceClient } from '../kube/resource-client.js';
import { traceProfileResource } from '../api/traceprofile.js';
import { reportHtml } from '../report/report-html.js';
import { reportFromTraceDocument, reportFromTraceProfile, ReportInputError, type ReportData } from '../report/report-source.js';
import { reportView } from '../report/report-view.js';

export const REPORT_USAGE = `Usage: loupe report NAME [-n NAMESPACE] [--kubeconfig PATH] [-o FILE]
       loupe report --from FILE [-o FILE]

Writes one HTML file that opens from disk with no network: the headline,
session, targets, nodes and cost; for every latency a heat map over the
session (with p50/p99) and its histogram; the profile probe's flame graph;
top lists and the per-pod breakdown as sortable tables. Prints its path.

  NAME                 a TraceProfile, read through the kubeconfig
  -n, --namespace NS   its namespace (default: the kubeconfig context's, then default)
  --kubeconfig PATH    kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, then in-cluster)
  --from FILE          a \`loupe trace --output json\` document instead; - reads stdin
  -o, --output FILE    where to write (default: loupe-report-NAME.html, or loupe-report-trace.html)
  -h, --help           show this help
`;

const OptionsSchema = z
  .object({
    name: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
    kubeconfig: z.string().min(1).optional(),
    from: z.string().min(1).optional(),
    output: z.string().min(1).optional(),
  })
  .refine((o) => (o.name === undefined) !== (o.from === undefined), {
    message: 'name one TraceProfile, or give --from FILE with a loupe trace document (not both)',
  })
  .refine((o) => o.from === undefined || (o.namespace === undefined && o.kubeconfig === undefined), {
    message: '--namespace and --kubeconfig are for a TraceProfile in a cluster, not for --from',
  });
type ReportOptions = z.infer<typeof OptionsSchema>;

export interface ReportIo {
  stdout: Writable;
  stderr: Writable;
  stdin: NodeJS.ReadableStream;
}

class ReportError extends Error {}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

async function fromDocument(file: string, stdin: NodeJS.ReadableStream): Promise<ReportData> {
  const where = file === '-' ? 'standard input' : file;
  let text: string;
  try {
    text = file === '-' ? await readAll(stdin) : readFileSync(file, 'utf8');
  } catch (err) {
    throw new ReportError(`cannot read ${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ReportError(`${where} is not JSON (${err instanceof Error ? err.message : String(err)}): give the output of loupe trace --output json`);
  }
  return reportFromTraceDocument(json);
}

async function fromCluster(options: ReportOptions & { name: string }): Promise<ReportData> {
  const kubeConfig = loadKubeConfig(options.kubeconfig);
  const namespace = options.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  const client = new ResourceClient(new KubeHttp(kubeConfig));
  let object: unknown;
  try {
    object = await client.get(traceProfileResource, { namespace, name: options.name });
  } catch (err) {
    const server = kubeConfig.getCurrentCluster()?.server ?? 'the cluster';
    throw new ReportError(`cannot read TraceProfile ${namespace}/${options.name} from ${server}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (object === undefined) {
    throw new ReportError(`TraceProfile ${JSON.stringify(options.name)} not found in namespace ${namespace}: kubectl get traceprofiles -A lists them`);
  }
  return reportFromTraceProfile(object);
}

function parseOptions(args: readonly string[]): ReportOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      kubeconfig: { type: 'string' },
      from: { type: 'string' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  if (positionals.length > 1) throw new ReportError(`one TraceProfile at a time, not ${positionals.length} (${positionals.join(', ')})`);
  const parsed = OptionsSchema.safeParse({ ...values, help: undefined, name: positionals[0] });
  if (!parsed.success) throw new ReportError(parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

/** Runs `loupe report args`; resolves to the exit status. */
export async function reportCommand(args: readonly string[], io: ReportIo = process): Promise<number> {
  let options: ReportOptions | 'help';
  try {
    options = parseOptions(args);
  } catch (err) {
    io.stderr.write(`loupe report: ${err instanceof Error ? err.message : String(err)}\n${REPORT_USAGE}`);
    return 2;
  }
  if (options === 'help') {
    io.stdout.write(REPORT_USAGE);
    return 0;
  }
  try {
    const data = options.name !== undefined ? await fromCluster({ ...options, name: options.name }) : await fromDocument(options.from ?? '-', io.stdin);
    const file = path.resolve(options.output ?? `loupe-report-${options.name ?? 'trace'}.html`);
    writeFileSync(file, reportHtml(reportView(data, new Date())));
    io.stdout.write(`${file}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ReportError || err instanceof ReportInputError) {
      io.stderr.write(`loupe report: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
