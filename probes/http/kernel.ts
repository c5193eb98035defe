// The http probe's kernel side: socket read/write syscalls of traced cgroups
// (http.bpf.c) parsed by http_parser.bpf.h, series drained on collect.
import { attachPrograms } from '../../engine/probes/attach-programs.js';
import type { ProbeDefinition } from '../../engine/probes/probe.js';
import { httpResults } from './decode.js';
import { httpForPorts } from './ports.js';
import type { HttpOptions } from './http.js';
import type { HttpResult } from './http-result.js';

export const httpKernel: ProbeDefinition<HttpResult, HttpOptions> = {
  objectFile: 'http.bpf.o',

  forProfile: (spec, delta) => (spec.ports === undefined ? delta : httpForPorts(spec.ports, delta)),

  attach(obj) {
    return attachPrograms(obj, ['loupe_http_enter', 'loupe_http_exit']);
  },

  reader(obj) {
    const series = obj.map('http_series');
    const overflow = obj.map('http_overflow');
    const anomalies = obj.map('http_anomaly_counts');
    const routeSets = obj.map('http_route_sets');
    return {
      // Read-and-delete makes each call a delta and frees room for new
      // series; the route cap restarts with each drain.
      collect() {
        const results = httpResults(series.lookupAndDeleteBatch(), overflow.lookupAndDeleteBatch(), anomalies.lookupAndDeleteBatch());
        routeSets.lookupAndDeleteBatch();
        return results;
      },
      close() {},
    };
  },
};
