// The one-line summary `kubectl get traceprofiles` shows, e.g.
// "1.2k execs, 48k syscalls p99 3.1ms, 310 opens (12 failed)": each probe's
// descriptor phrases its own part.
import type { ProbeResults } from '../api/results.js';
import { descriptorOf, PROBE_NAMES, type ProbeName, type ResultOf } from '../probes/registry.js';

export const MAX_HEADLINE_LENGTH = 128;

function phrase<N extends ProbeName>(probe: N, result: ResultOf<N>): string {
  return descriptorOf(probe).headline(result);
}

/** One phrase per probe that reported, joined until the line is full; undefined without results. */
export function headline(results: ProbeResults | undefined): string | undefined {
  if (results === undefined) return undefined;
  let line = '';
  for (const probe of PROBE_NAMES) {
    const result = results[probe];
    if (result === undefined) continue;
    const next = line === '' ? phrase(probe, result as ResultOf<typeof probe>) : `${line}, ${phrase(probe, result as ResultOf<typeof probe>)}`;
    if (next.length > MAX_HEADLINE_LENGTH) break;
    line = next;
  }
  return line === '' ? undefined : line;
}
