// The oomkill probe: every process the kernel OOM killer picks in a traced
// cgroup, from oom:mark_victim through a ring buffer (oomkill.bpf.c).
import { attachPrograms } from '../../engine/probes/attach-programs.js';
import { eventProbeReader } from '../../engine/probes/event-ring.js';
import { OomkillAggregator, decodeOomkillEvent, oomkillEventAttributes } from './decode.js';
import type { ProbeDefinition } from '../../engine/probes/probe.js';
import type { OomkillResult } from './oomkill.js';

export const oomkillKernel: ProbeDefinition<OomkillResult> = {
  objectFile: 'oomkill.bpf.o',

  attach(obj) {
    return attachPrograms(obj, ['loupe_mark_victim']);
  },

  reader(obj, onEvent) {
    return eventProbeReader('oomkill', obj, onEvent, decodeOomkillEvent, new OomkillAggregator(), oomkillEventAttributes);
  },
};
