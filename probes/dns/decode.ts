// dns.h's map entries → per-cgroup DnsResults: the drained `stats` rows
// (cgroup, qtype, rcode), `names` counts and per-cgroup `spilled` counts, and
// the queries user space found timed out in `inflight`.
import { z } from 'zod';
import { histogramFromCounts, HISTOGRAM_BUCKETS, summarizeLatency } from '../../api/histogram.js';
import { mergeTop, OTHER_TOP_KEY } from '../../api/top-list.js';
import { decodeCgroupId, decodeStruct } from '../../engine/probes/kernel-decode.js';
import { TopList } from '../../engine/probes/top-list.js';
import type { DnsResult } from './dns.js';
import { layouts } from './layout.generated.js';

const { dns_stats_key: STATS_KEY, dns_stats: STATS, dns_name_key: NAME_KEY, dns_name_counts: NAME_COUNTS, dns_flight: FLIGHT, dns_spilled: SPILLED } =
  layouts;

/** dns_stats_key.rcode of the row of queries, retries and timeouts (DNS_NO_RCODE in dns.h). */
export const NO_RCODE = 0xffff;

/** QTYPEs by their IANA mnemonic; any other reads TYPE<n> (RFC 3597). */
const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  13: 'HINFO',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  35: 'NAPTR',
  43: 'DS',
  46: 'RRSIG',
  48: 'DNSKEY',
  52: 'TLSA',
  64: 'SVCB',
  65: 'HTTPS',
  251: 'IXFR',
  252: 'AXFR',
  255: 'ANY',
  257: 'CAA',
};

/** RCODEs (the header's 4 bits) by their IANA mnemonic; any other reads RCODE<n>. */
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', 'DSOTYPENI'];
export const NOERROR = 0;
export const SERVFAIL = 2;
export const NXDOMAIN = 3;

export const typeName = (qtype: number): string => TYPE_NAMES[qtype] ?? `TYPE${qtype}`;
export const rcodeName = (rcode: number): string => RCODE_NAMES[rcode] ?? `RCODE${rcode}`;

/** One label as text: letters lowercased (DNS names are case-insensitive), escaped as dns.question.name asks. */
function labelText(label: Buffer): string {
  let text = '';
  for (const byte of label) {
    if (byte >= 0x41 && byte <= 0x5a) text += String.fromCharCode(byte + 0x20);
    else if (byte === 0x5c || byte === 0x22 || byte === 0x2e) text += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte <= 0x7e) text += String.fromCharCode(byte);
    else text += `\\${String(byte).padStart(3, '0')}`;
  }
  return text;
}

/**
 * A question name as the kernel keeps it (its wire form: length-prefixed
 * labels up to a zero byte, which the kernel checked) as OpenTelemetry's
 * dns.question.name reads it: "www.example.com", the root as ".", bytes
 * outside printable ASCII as \DDD, and backslash, quote and a dot inside a
 * label escaped.
 */
export function questionName(wire: Buffer): string {
  const labels: string[] = [];
  for (let at = 0; at < wire.length && wire[at] !== 0; at += 1 + wire[at]!) labels.push(labelText(wire.subarray(at + 1, at + 1 + wire[at]!)));
  return labels.length === 0 ? '.' : labels.join('.');
}

const u16 = z.number().int().min(0).max(0xffff);
const count = z.bigint().min(0n).transform(Number);
const latency = z.array(count).length(HISTOGRAM_BUCKETS);

const StatsKeySchema = z.object({ cgroupId: z.bigint().min(0n), qtype: u16, rcode: u16 });
const StatsSchema = z.object({ queries: count, retries: count, timeouts: count, answers: count, zero: count, latency });
const NameCountsSchema = z.object({ queries: count, errors: count });
const SpilledSchema = z.object({
  malformed: count,
  queries: count,
  retries: count,
  timeouts: count,
  answers: count,
  errors: count,
  nameQueries: count,
  nameErrors: count,
  zero: count,
  latency,
});
const FlightSchema = z.object({ cgroupId: z.bigint().min(0n), startNs: z.bigint().min(0n), qtype: u16 });

export type DnsStatsKey = z.output<typeof StatsKeySchema>;
export type DnsStats = z.output<typeof StatsSchema>;
export type DnsSpilled = z.output<typeof SpilledSchema>;
/** A query in flight: who asked what, and when (bpf_ktime_get_ns). */
export type DnsFlight = z.output<typeof FlightSchema> & { name: string };

/** A struct's char array member as raw bytes, at its generated offset. */
const nameBytes = (buf: Buffer, layout: { fields: { name: { offset: number; size: number } } }) =>
  buf.subarray(layout.fields.name.offset, layout.fields.name.offset + layout.fields.name.size);

export const decodeStatsKey = (buf: Buffer): DnsStatsKey => StatsKeySchema.parse(decodeStruct(buf, STATS_KEY));
export const decodeStats = (buf: Buffer): DnsStats => StatsSchema.parse(decodeStruct(buf, STATS));
export const decodeSpilled = (buf: Buffer): DnsSpilled => SpilledSchema.parse(decodeStruct(buf, SPILLED));

export function decodeNameKey(buf: Buffer): { cgroupId: bigint; name: string } {
  const { cgroupId } = decodeStruct(buf, NAME_KEY);
  return { cgroupId, name: questionName(nameBytes(buf, NAME_KEY)) };
}

export function decodeNameCounts(buf: Buffer): { queries: number; errors: number } {
  return NameCountsSchema.parse(decodeStruct(buf, NAME_COUNTS));
}

export function decodeFlight(buf: Buffer): DnsFlight {
  return { ...FlightSchema.parse(decodeStruct(buf, FLIGHT)), name: questionName(nameBytes(buf, FLIGHT)) };
}

type Entries = Iterable<readonly [Buffer, Buffer]>;

/** One drain of the kernel's counting maps, and the queries that timed out since the previous one. */
export interface DnsDrain {
  stats: Entries;
  names: Entries;
  spilled: Entries;
  timedOut: readonly DnsFlight[];
}

/** A log2 histogram being filled: the zero bucket and slots 0..63. */
class HistogramTally {
  zero = 0;
  readonly counts = new Array<number>(HISTOGRAM_BUCKETS).fill(0);

  add(zero: number, counts: readonly number[]): void {
    this.zero += zero;
    counts.forEach((c, k) => (this.counts[k]! += c));
  }

  summary() {
    return summarizeLatency(histogramFromCounts(this.zero, this.counts));
  }
}

class CgroupTally {
  queries = 0;
  retries = 0;
  answers = 0;
  errors = 0;
  timeouts = 0;
  malformed = 0;
  readonly latency = new HistogramTally();
  readonly nxdomain = new HistogramTally();
  readonly servfail = new HistogramTally();
  readonly otherError = new HistogramTally();
  readonly types = new TopList(true);
  readonly rcodes = new TopList(false);
  readonly names = new TopList(true);

  result(): DnsResult {
    return {
      queries: this.queries,
      retries: this.retries,
      answers: this.answers,
      errors: this.errors,
      timeouts: this.timeouts,
      malformed: this.malformed,
      latencyNs: this.latency.summary(),
      nxdomainLatencyNs: this.nxdomain.summary(),
      servfailLatencyNs: this.servfail.summary(),
      otherErrorLatencyNs: this.otherError.summary(),
      // Ranked as merged lists are, OTHER_TOP_KEY last.
      topNames: mergeTop(this.names.entries()),
      topTypes: mergeTop(this.types.entries()),
      topRcodes: mergeTop(this.rcodes.entries()),
    };
  }
}

/** Adds to a top list unless there is nothing to add. */
function addTop(list: TopList, key: string, count: number, errors = 0): void {
  if (count > 0 || errors > 0) list.add(key, count, errors);
}

/**
 * Per-cgroup results of one drain. Queries and answers of a lookup may land
 * in different drains; each drain is a delta, so a type or name can show
 * errors without queries in one of them, and their sums are right.
 */
export function dnsResults(drain: DnsDrain): Map<bigint, DnsResult> {
  const tallies = new Map<bigint, CgroupTally>();
  const tallyOf = (cgroupId: bigint) => {
    let t = tallies.get(cgroupId);
    if (t === undefined) tallies.set(cgroupId, (t = new CgroupTally()));
    return t;
  };
  for (const [key, value] of drain.stats) {
    const { cgroupId, qtype, rcode } = decodeStatsKey(key);
    const s = decodeStats(value);
    const t = tallyOf(cgroupId);
    if (rcode === NO_RCODE) {
      t.queries += s.queries;
      t.retries += s.retries;
      t.timeouts += s.timeouts;
      addTop(t.types, typeName(qtype), s.queries, s.timeouts);
      continue;
    }
    const failed = rcode === NOERROR ? 0 : s.answers;
    t.answers += s.answers;
    t.errors += failed;
    addTop(t.types, typeName(qtype), 0, failed);
    addTop(t.rcodes, rcodeName(rcode), s.answers);
    t.latency.add(s.zero, s.latency);
    if (rcode === NXDOMAIN) t.nxdomain.add(s.zero, s.latency);
    else if (rcode === SERVFAIL) t.servfail.add(s.zero, s.latency);
    else if (rcode !== NOERROR) t.otherError.add(s.zero, s.latency);
  }
  for (const [key, value] of drain.names) {
    const { cgroupId, name } = decodeNameKey(key);
    const c = decodeNameCounts(value);
    addTop(tallyOf(cgroupId).names, name, c.queries, c.errors);
  }
  // Rows the kernel had no room for: in the totals, under OTHER_TOP_KEY in the lists.
  for (const [key, value] of drain.spilled) {
    const s = decodeSpilled(value);
    const t = tallyOf(decodeCgroupId(key));
    t.malformed += s.malformed;
    t.queries += s.queries;
    t.retries += s.retries;
    t.timeouts += s.timeouts;
    t.answers += s.answers;
    t.errors += s.errors;
    t.latency.add(s.zero, s.latency);
    addTop(t.types, OTHER_TOP_KEY, s.queries, s.errors + s.timeouts);
    addTop(t.rcodes, OTHER_TOP_KEY, s.answers);
    addTop(t.names, OTHER_TOP_KEY, s.nameQueries, s.nameErrors);
  }
  for (const flight of drain.timedOut) {
    const t = tallyOf(flight.cgroupId);
    t.timeouts += 1;
    addTop(t.types, typeName(flight.qtype), 0, 1);
    addTop(t.names, flight.name, 0, 1);
  }
  return new Map([...tallies].map(([cgroupId, t]) => [cgroupId, t.result()]));
}
