// The exec probe: every exec and process exit in traced cgroups, from the
// sched tracepoints through a ring buffer (bpf/exec.bpf.c).
import { attachPrograms } from './attach-programs.js';
import { ExecAggregator, decodeExecEvent, execEventAttributes } from './exec-decode.js';
import { monotonicNsToEpochMs } from './kernel-decode.js';
import type { ProbeDefinition } from './probe.js';
import { EventRing } from './event-ring.js';

export const exec: ProbeDefinition<'exec'> = {
  name: 'exec',
  description: 'Process executions (by program path) and exits.',
  objectFile: 'exec.bpf.o',

  attach(obj) {
    return attachPrograms(obj, ['loupe_exec', 'loupe_exit']);
  },

  reader(obj, onEvent) {
    const aggregator = new ExecAggregator();
    const ring = new EventRing(obj.map('events'), (data) => {
      const e = decodeExecEvent(data);
      aggregator.add(e);
      onEvent({
        probe: 'exec',
        cgroupId: e.cgroupId,
        profileMask: e.profiles,
        timeMs: monotonicNsToEpochMs(e.timeNs),
        attributes: execEventAttributes(e),
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
