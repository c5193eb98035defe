// The exec probe: every exec and process exit in traced cgroups, from the
// sched tracepoints through a ring buffer (exec.bpf.c).
import { attachPrograms } from '../../engine/probes/attach-programs.js';
import { eventProbeReader } from '../../engine/probes/event-ring.js';
import { ExecAggregator, decodeExecEvent, execEventAttributes } from './decode.js';
import type { ProbeDefinition } from '../../engine/probes/probe.js';
import type { ExecResult } from './exec.js';

export const execKernel: ProbeDefinition<ExecResult> = {
  objectFile: 'exec.bpf.o',

  attach(obj) {
    return attachPrograms(obj, ['loupe_exec', 'loupe_exit']);
  },

  reader(obj, onEvent) {
    return eventProbeReader('exec', obj, onEvent, decodeExecEvent, new ExecAggregator(), execEventAttributes);
  },
};
