// The oomkill probe: every process the kernel OOM killer picks in a traced
// cgroup, from oom:mark_victim through a ring buffer (bpf/oomkill.bpf.c).
import { attachPrograms } from './attach-programs.js';
import { EventRing } from './event-ring.js';
import { monotonicNsToEpochMs } from './kernel-decode.js';
import { OomkillAggregator, decodeOomkillEvent, oomkillEventAttributes } from './oomkill-decode.js';
import type { ProbeDefinition } from './probe.js';

export const oomkill: ProbeDefinition<'oomkill'> = {
  name: 'oomkill',
  description: 'Processes killed by the kernel OOM killer, by command.',
  objectFile: 'oomkill.bpf.o',

  attach(obj) {
    return attachPrograms(obj, ['loupe_mark_victim']);
  },

  reader(obj, onEvent) {
    const aggregator = new OomkillAggregator();
    const ring = new EventRing(obj.map('events'), (data) => {
      const e = decodeOomkillEvent(data);
      aggregator.add(e);
      onEvent({
        probe: 'oomkill',
        cgroupId: e.cgroupId,
        profileMask: e.profiles,
        timeMs: monotonicNsToEpochMs(e.timeNs),
        attributes: oomkillEventAttributes(e),
      });
    });
    return {
      collect() {
        ring.consume();
        return aggregator.drain();
      },
      close() {
        ring.close();
      },
    };
  },
};
