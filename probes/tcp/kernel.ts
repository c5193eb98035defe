// The tcp probe: connects (and failures), accepts and closes of traced
// cgroups through a ring buffer, retransmits as in-kernel counters
// (tcp.bpf.c).
import { attachPrograms } from '../../engine/probes/attach-programs.js';
import { decodeCgroupId, decodeCounter, monotonicNsToEpochMs } from '../../engine/probes/kernel-decode.js';
import type { TcpResult } from './tcp.js';
import type { ProbeDefinition } from '../../engine/probes/probe.js';
import { EventRing } from '../../engine/probes/event-ring.js';
import { TcpAggregator, decodeTcpEvent, tcpEventAttributes } from './decode.js';

export const tcpKernel: ProbeDefinition<TcpResult> = {
  objectFile: 'tcp.bpf.o',

  attach(obj) {
    return attachPrograms(obj, ['loupe_tcp_state', 'loupe_tcp_retransmit', 'loupe_accept_exit']);
  },

  reader(obj, onEvent) {
    const aggregator = new TcpAggregator();
    const retransmits = obj.map('retransmits');
    const ring = new EventRing(obj.map('events'), (data) => {
      const e = decodeTcpEvent(data);
      aggregator.add(e);
      onEvent({
        probe: 'tcp',
        cgroupId: e.cgroupId,
        profileMask: e.profiles,
        timeMs: monotonicNsToEpochMs(e.timeNs),
        attributes: tcpEventAttributes(e),
      });
    });
    return {
      collect() {
        ring.consume();
        for (const [key, value] of retransmits.lookupAndDeleteBatch()) {
          aggregator.addRetransmits(decodeCgroupId(key), decodeCounter(value));
        }
        return aggregator.drain();
      },
      close() {
        ring.close();
      },
    };
  },
};
