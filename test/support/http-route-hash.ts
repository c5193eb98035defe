// http_route_hash of probes/http/http_parser.bpf.h in TypeScript: the hash
// a series key names its route by, so a test can write the entries the
// kernel would (and plant a collision, which shows the two hashes agree).
import { layouts } from '../../probes/http/layout.generated.js';

/** HTTP_ROUTE_LEN: a route's bytes in the kernel, NUL padding included. */
const HTTP_ROUTE_LEN = layouts.http_series_stats.fields.route.size;

const MASK = (1n << 64n) - 1n;

/** The route's 64-bit hash, over its HTTP_ROUTE_LEN NUL-padded bytes as 8 little-endian words. */
export function httpRouteHash(route: string): bigint {
  const bytes = Buffer.alloc(HTTP_ROUTE_LEN);
  bytes.write(route, 0, HTTP_ROUTE_LEN - 1, 'latin1');
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < HTTP_ROUTE_LEN; i += 8) {
    h = ((h ^ bytes.readBigUInt64LE(i)) * 0x9e3779b97f4a7c15n) & MASK;
    h ^= h >> 32n;
  }
  h = ((h ^ (h >> 29n)) * 0xbf58476d1ce4e5b9n) & MASK;
  return h ^ (h >> 32n);
}
