// The http probe's kernel side: socket read/write syscalls of traced cgroups
// (http.bpf.c) parsed by http_parser.bpf.h, series drained on collect.
import { attachPrograms } from '../../engine/probes/attach-programs.js';
import type { ProbeDefinition, ProbeReader } from '../../engine/probes/probe.js';
import type { BpfObject } from '../../native/index.js';
import { configureTargetStorage, syncTargetStorage } from '../../engine/probes/target-storage.js';
import { httpResults } from './decode.js';
import { httpForPorts } from './ports.js';
import type { HttpOptions } from './http.js';
import type { HttpResult } from './http-result.js';

/**
 * The reader of the maps http_parser.bpf.h gives every object that includes
 * it (this probe's and the tls probe's): read-and-delete makes each call a
 * delta and frees room for new series; the route cap restarts with each drain.
 */
export function httpParserReader(obj: BpfObject): ProbeReader<HttpResult> {
  const series = obj.map('http_series');
  const overflow = obj.map('http_overflow');
  const anomalies = obj.map('http_anomaly_counts');
  const routeSets = obj.map('http_route_sets');
  return {
    collect() {
      // Route sets first: the kernel asks the route cap only for a series
      // it does not find, so a series must never outlive its route's claim.
      routeSets.lookupAndDeleteBatch();
      return httpResults(series.lookupAndDeleteBatch(), overflow.lookupAndDeleteBatch(), anomalies.lookupAndDeleteBatch());
    },
    close() {},
  };
}

export const httpKernel: ProbeDefinition<HttpResult, HttpOptions> = {
  objectFile: 'http.bpf.o',

  // Its hooks run on every read and write of the node: the filter reads cgroup storage.
  configure: (obj) => configureTargetStorage(obj, {}),
  syncTarget: syncTargetStorage,

  forProfile: (spec, delta) => (spec.ports === undefined ? delta : httpForPorts(spec.ports, delta)),

  // The memo's invalidations first: no memo may outlive a cgroup change unseen.
  attach(obj) {
    return attachPrograms(obj, ['loupe_http_fork', 'loupe_http_migrate', 'loupe_http_exit']);
  },

  reader: httpParserReader,
};
