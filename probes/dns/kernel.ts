// The dns probe: DNS lookups over UDP of traced cgroups, counted in the
// kernel (dns.bpf.c) by type, response code and name, with their latency.
// Its cgroup_skb programs are attached once, at the root of the cgroup2
// hierarchy, like netbytes'. Each collect drains the counting maps and
// sweeps the queries still waiting past the timeout out of `inflight`.
import type { BpfLink, BpfMap, BpfObject } from '../../native/index.js';
import { findCgroup2Mount } from '../../engine/cgroup/mount.js';
import { TARGETS_MAP, type ProbeDefinition } from '../../engine/probes/probe.js';
import { decodeFlight, dnsResults, type DnsFlight } from './decode.js';
import type { DnsOptions, DnsResult } from './dns.js';

/** The DNS server port a profile that names none counts. */
export const DNS_PORT = 53;
/** A query not answered within this long is a timeout, in the kernel and in the sweep. */
export const DNS_TIMEOUT_NS = 5_000_000_000n;
/** `stats` rows per target: (type, rcode) pairs a pod uses in one collect interval. */
const STATS_ROWS_PER_TARGET = 16;

/**
 * Takes the queries that have waited timeoutNs or more out of `inflight`.
 * `remove` deletes an entry and says whether it was still there: the kernel
 * takes an answered query out the same way, so a query is counted once,
 * answered or timed out, whoever comes first.
 */
export function sweepTimedOut(
  entries: Iterable<readonly [Buffer, Buffer]>,
  nowNs: bigint,
  remove: (key: Buffer) => boolean,
  timeoutNs = DNS_TIMEOUT_NS,
): DnsFlight[] {
  const timedOut: DnsFlight[] = [];
  for (const [key, value] of entries) {
    const flight = decodeFlight(value);
    if (nowNs - flight.startNs >= timeoutNs && remove(key)) timedOut.push(flight);
  }
  return timedOut;
}

/** The ports every profile using the probe counts as DNS (the default, 53, for a profile that names none). */
export function dnsPorts(specs: readonly DnsOptions[]): Set<number> {
  const ports = new Set<number>(specs.length === 0 ? [DNS_PORT] : []);
  for (const spec of specs) for (const port of spec.serverPorts ?? [DNS_PORT]) ports.add(port);
  return ports;
}

function portKey(port: number): Buffer {
  const key = Buffer.alloc(2);
  key.writeUInt16LE(port); // __u16 in host order; x86_64 and arm64 are little-endian
  return key;
}

/** Makes the kernel's `ports` map exactly `wanted`. */
function writePorts(map: BpfMap, wanted: ReadonlySet<number>): void {
  for (const key of map.keys()) if (!wanted.has(key.readUInt16LE(0))) map.delete(key);
  for (const port of wanted) map.update(portKey(port), Buffer.from([1]));
}

export const dnsKernel: ProbeDefinition<DnsResult, DnsOptions> = {
  objectFile: 'dns.bpf.o',

  configure(obj: BpfObject) {
    const maxTargets = obj.map(TARGETS_MAP).maxEntries;
    obj.setMaxEntries('stats', maxTargets * STATS_ROWS_PER_TARGET);
    obj.setMaxEntries('spilled', maxTargets);
    obj.setRodata('timeout_ns', DNS_TIMEOUT_NS);
  },

  /**
   * One port set serves every profile: a pod traced by two profiles with
   * different `serverPorts` is counted on both sets for both.
   */
  applyOptions(obj, specs) {
    writePorts(obj.map('ports'), dnsPorts(specs));
  },

  /** Once, at the cgroup2 root: cgroup_skb programs there run for every descendant cgroup's sockets. */
  attach(obj) {
    const root = findCgroup2Mount().mountPoint;
    const links: BpfLink[] = [];
    try {
      for (const name of ['loupe_dns_egress', 'loupe_dns_ingress']) links.push(obj.program(name).attachCgroup(root));
    } catch (err) {
      for (const link of links) link.destroy();
      throw err;
    }
    return links;
  },

  reader(obj) {
    const stats = obj.map('stats');
    const names = obj.map('names');
    const spilled = obj.map('spilled');
    const inflight = obj.map('inflight');
    return {
      // Read-and-delete makes each call a delta and frees room for new rows and names.
      collect() {
        const timedOut = sweepTimedOut(inflight.entries(), process.hrtime.bigint(), (key) => inflight.delete(key));
        return dnsResults({
          stats: stats.lookupAndDeleteBatch(),
          names: names.lookupAndDeleteBatch(),
          spilled: spilled.lookupAndDeleteBatch(),
          timedOut,
        });
      },
      close() {}, // no ring buffer: the maps go with the object
    };
  },
};
