// The files probe: open/openat/openat2 calls and failures per path in traced
// cgroups, counted in the kernel (files.bpf.c) and drained on collect.
import { attachPrograms } from '../../agent/probes/attach-programs.js';
import { filesResults } from './decode.js';
import type { ProbeDefinition } from '../../agent/probes/probe.js';

export const files: ProbeDefinition<'files'> = {
  name: 'files',
  description: 'File opens (open, openat, openat2) and their failures, by path.',
  objectFile: 'files.bpf.o',

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
