// Full-fidelity profiles over HTTP, for the node agent to mount:
//   GET /profiles/<profileUid>.pb.gz   gzipped pprof (go tool pprof, Pyroscope, …)
//   GET /profiles/<profileUid>.folded  folded stacks (flamegraph.pl, speedscope)
// The status holds only the top frames and stacks; this is the rest.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TracedResults } from '../../agent/node-agent.js';
import { DEFAULT_PROFILE_FREQUENCY_HZ } from './kernel.js';
import { encodePprof } from './pprof.js';
import { foldedStacksOf, formatFolded, type FoldedStacks } from './stacks.js';

const PATH = /^\/profiles\/([A-Za-z0-9-]{1,64})\.(pb\.gz|folded)$/;

/**
 * The profile probe's stacks for a profile on a node since it started there,
 * at the rate the probe samples now; undefined for a profile the node does
 * not trace with the profile probe.
 */
export function profileStacksOf(traced: TracedResults<'profile'> | undefined): FoldedStacks | undefined {
  if (traced === undefined) return undefined;
  const hz = traced.attachSetting;
  return foldedStacksOf(traced.results.values(), typeof hz === 'number' ? hz : DEFAULT_PROFILE_FREQUENCY_HZ);
}

/**
 * A request handler; it answers every request it is given (404 for other
 * paths), so mount it under /profiles/. `getStacks` returns the profile's
 * stacks on this node, or undefined when the node does not know the profile.
 */
export function createProfileDownloadHandler(getStacks: (profileUid: string) => FoldedStacks | undefined) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const send = (status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, 'text/plain; charset=utf-8', 'only GET and HEAD\n', { Allow: 'GET, HEAD' });
      return;
    }
    const match = PATH.exec(new URL(req.url ?? '/', 'http://node').pathname);
    if (match === null) {
      send(404, 'text/plain; charset=utf-8', 'not found: use /profiles/<profileUid>.pb.gz or .folded\n');
      return;
    }
    const [, uid, format] = match as unknown as [string, string, string];
    const stacks = getStacks(uid);
    if (stacks === undefined) {
      send(404, 'text/plain; charset=utf-8', `no profile ${uid} on this node\n`);
      return;
    }
    if (format === 'folded') {
      send(200, 'text/plain; charset=utf-8', formatFolded(stacks));
    } else {
      send(200, 'application/octet-stream', encodePprof(stacks), {
        'Content-Disposition': `attachment; filename="${uid}.pb.gz"`,
      });
    }
  };
}
