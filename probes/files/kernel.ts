// The files probe: open/openat/openat2 calls and failures per path in traced
// cgroups, counted in the kernel (files.bpf.c) and drained on collect.
import { attachPrograms } from '../../engine/probes/attach-programs.js';
import { filesResults } from './decode.js';
import type { ProbeDefinition } from '../../engine/probes/probe.js';
import type { FilesOptions, FilesResult } from './files.js';

/**
 * Only the paths under the profile's prefixes (plain string prefixes, matched
 * against the path as the process passed it). Opens the kernel could not
 * count by path (its map was full) have no path, so a filter drops them.
 */
export function filesForProfile(spec: FilesOptions, delta: FilesResult): FilesResult | undefined {
  const prefixes = spec.pathPrefixes;
  if (prefixes === undefined) return delta;
  const topPaths = delta.topPaths.filter((e) => prefixes.some((prefix) => e.key.startsWith(prefix)));
  const opens = topPaths.reduce((sum, e) => sum + e.count, 0);
  if (opens === 0) return undefined;
  return { opens, errors: topPaths.reduce((sum, e) => sum + (e.errors ?? 0), 0), topPaths };
}

export const filesKernel: ProbeDefinition<FilesResult, FilesOptions> = {
  objectFile: 'files.bpf.o',

  forProfile: filesForProfile,

  attach(obj) {
    return attachPrograms(obj, ['loupe_open_enter', 'loupe_open_exit']);
  },

  reader(obj) {
    const counts = obj.map('open_counts');
    const dropped = obj.map('open_dropped');
    return {
      // Read-and-delete makes each call a delta and frees room for new paths.
      collect() {
        return filesResults(counts.lookupAndDeleteBatch(), dropped.lookupAndDeleteBatch());
      },
      close() {},
    };
  },
};
