// A profile's `ports` option: what it gets of a delta when it names the
// server ports it wants. The kernel counts every port once for all profiles;
// each profile keeps the series of its ports.
import { histogramCount, mergeHistograms, summarizeLatency } from '../../api/histogram.js';
import { parseSeriesKey, type HttpResult, type HttpRole } from './http-result.js';

/**
 * Only the series whose server port is one of `ports`, totals recomputed
 * from them; undefined when none is. Requests the kernel counted without a
 * series (its map was full) have no port, so a port filter drops them, as
 * it drops responses without a request.
 */
export function httpForPorts(ports: readonly number[], delta: HttpResult): HttpResult | undefined {
  const kept = delta.topSeries.flatMap((e) => {
    const s = parseSeriesKey(e.key);
    return s !== undefined && ports.includes(s.port) ? [{ e, role: s.role }] : [];
  });
  if (kept.length === 0) return undefined;
  const side = (role: HttpRole) => {
    const mine = kept.filter((k) => k.role === role).map((k) => k.e);
    const latency = summarizeLatency(mergeHistograms(...mine.flatMap((e) => (e.latencyNs ? [e.latencyNs] : []))));
    return { requests: histogramCount(latency.histogram), errors: mine.reduce((sum, e) => sum + (e.errors ?? 0), 0), latency };
  };
  const server = side('server');
  const client = side('client');
  return {
    requests: server.requests + client.requests,
    serverRequests: server.requests,
    serverErrors: server.errors,
    serverLatencyNs: server.latency,
    clientRequests: client.requests,
    clientErrors: client.errors,
    clientLatencyNs: client.latency,
    unmatchedResponses: 0,
    topSeries: kept.map((k) => k.e),
  };
}
