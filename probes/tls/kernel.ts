// The tls probe's kernel side: uprobes on the libssl each targeted process
// maps (ssl-uprobes.ts), attached as those processes appear, feeding the
// HTTP parser of probes/http; its maps drain and decode as the http probe's.
import type { ProbeDefinition } from '../../engine/probes/probe.js';
import { httpResults } from '../http/decode.js';
import type { HttpResult } from '../http/http-result.js';
import { sslTargetLinker } from './ssl-uprobes.js';
import type { TlsOptions } from './tls.js';

export const tlsKernel: ProbeDefinition<HttpResult, TlsOptions> = {
  objectFile: 'tls.bpf.o',

  // Nothing to attach before a targeted process is seen mapping a libssl.
  attach: () => [],

  targetLinker: sslTargetLinker,

  reader(obj) {
    const series = obj.map('http_series');
    const overflow = obj.map('http_overflow');
    const anomalies = obj.map('http_anomaly_counts');
    const routeSets = obj.map('http_route_sets');
    return {
      // Read-and-delete, as the http probe: each call a delta, the route cap restarting with each drain.
      collect() {
        const results = httpResults(series.lookupAndDeleteBatch(), overflow.lookupAndDeleteBatch(), anomalies.lookupAndDeleteBatch());
        routeSets.lookupAndDeleteBatch();
        return results;
      },
      close() {},
    };
  },
};
