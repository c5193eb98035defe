// Merging results of one probe: across collection intervals, cgroups, pods and
// nodes. Pure, so the agent and the operator merge the same way: counts sum,
// histograms add bucket by bucket (latency summaries are recomputed from the
// merged histogram, never averaged), and top lists are re-ranked after summing
// count and errors per key. The profile probe's results also carry CPU time
// (cpuNs): its samples are taken at rates that differ between nodes and over
// time, so its lists rank and its totals add by time, never by samples.
import { mergeHistograms, summarizeLatency, type LatencySummary } from './histogram.js';
import { PROBE_NAMES, type ProbeName, type ProbeResults, type ProfileTopEntry, type TopEntry } from './results.js';

export type ResultOf<N extends ProbeName> = NonNullable<ProbeResults[N]>;

/** Key of the entry that stands for the keys a folded top list dropped. */
export const OTHER_TOP_KEY = '(other)';

/** An entry of any top list; only the profile probe's carry cpuNs. */
export type RankedEntry = TopEntry & Pick<ProfileTopEntry, 'cpuNs'>;

/**
 * Highest CPU time first where entries have it, else highest count; ties by
 * errors, then key, so merges are deterministic. OTHER_TOP_KEY last whatever
 * its count: summed over many lists it easily outgrows every key, but it is
 * the remainder, not a key to rank.
 */
function byRank(a: RankedEntry, b: RankedEntry): number {
  return (
    Number(a.key === OTHER_TOP_KEY) - Number(b.key === OTHER_TOP_KEY) ||
    (a.cpuNs !== undefined && b.cpuNs !== undefined ? b.cpuNs - a.cpuNs : 0) ||
    b.count - a.count ||
    (b.errors ?? 0) - (a.errors ?? 0) ||
    (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  );
}

/**
 * Sums count, errors and cpuNs per key over all lists; the result is ranked
 * and complete. cpuNs is kept only when every entry has it (a node from before
 * it has samples at an unknown rate): a list ranked partly by time and partly
 * by count would rank neither way.
 */
export function mergeTop(...lists: readonly (readonly RankedEntry[])[]): RankedEntry[] {
  const timed = lists.every((list) => list.every((e) => e.cpuNs !== undefined));
  const byKey = new Map<string, RankedEntry>();
  for (const list of lists) {
    for (const { cpuNs, ...e } of list) {
      const seen = byKey.get(e.key);
      if (seen === undefined) {
        byKey.set(e.key, timed ? { ...e, cpuNs } : e);
        continue;
      }
      seen.count += e.count;
      if (e.errors !== undefined) seen.errors = (seen.errors ?? 0) + e.errors;
      if (timed) seen.cpuNs = (seen.cpuNs ?? 0) + (cpuNs ?? 0);
    }
  }
  return [...byKey.values()].sort(byRank);
}

/** The n highest-ranked entries. */
export function boundTop(list: readonly RankedEntry[], n: number): RankedEntry[] {
  return [...list].sort(byRank).slice(0, Math.max(0, n));
}

/**
 * At most n entries, the lowest-ranked folded into one OTHER_TOP_KEY entry
 * (last) so totals stay right: bounds memory where a complete list could grow
 * without end.
 */
export function foldTop(list: readonly RankedEntry[], n: number): RankedEntry[] {
  const ranked = mergeTop(list); // an OTHER_TOP_KEY entry from an earlier fold is last, and folds again
  if (ranked.length <= n) return ranked;
  const other: RankedEntry = { key: OTHER_TOP_KEY, count: 0 };
  for (const e of ranked.slice(n - 1)) {
    other.count += e.count;
    if (e.errors !== undefined) other.errors = (other.errors ?? 0) + e.errors;
    if (e.cpuNs !== undefined) other.cpuNs = (other.cpuNs ?? 0) + e.cpuNs;
  }
  return [...ranked.slice(0, n - 1), other];
}

function sum<T>(rs: readonly T[], field: (r: T) => number): number {
  return rs.reduce((total, r) => total + field(r), 0);
}

function mergeLatency(summaries: readonly LatencySummary[]): LatencySummary {
  return summarizeLatency(mergeHistograms(...summaries.map((s) => s.histogram)));
}

type Merger<N extends ProbeName> = (rs: readonly ResultOf<N>[]) => ResultOf<N>;

const mergers: { [N in ProbeName]: Merger<N> } = {
  exec: (rs) => ({
    execs: sum(rs, (r) => r.execs),
    exits: sum(rs, (r) => r.exits),
    topCommands: mergeTop(...rs.map((r) => r.topCommands)),
  }),
  syscalls: (rs) => ({
    calls: sum(rs, (r) => r.calls),
    errors: sum(rs, (r) => r.errors),
    latencyNs: mergeLatency(rs.map((r) => r.latencyNs)),
    topSyscalls: mergeTop(...rs.map((r) => r.topSyscalls)),
  }),
  files: (rs) => ({
    opens: sum(rs, (r) => r.opens),
    errors: sum(rs, (r) => r.errors),
    topPaths: mergeTop(...rs.map((r) => r.topPaths)),
  }),
  tcp: (rs) => ({
    connects: sum(rs, (r) => r.connects),
    connectFailures: sum(rs, (r) => r.connectFailures),
    accepts: sum(rs, (r) => r.accepts),
    closed: sum(rs, (r) => r.closed),
    bytesSent: sum(rs, (r) => r.bytesSent),
    bytesReceived: sum(rs, (r) => r.bytesReceived),
    retransmits: sum(rs, (r) => r.retransmits),
    durationNs: mergeLatency(rs.map((r) => r.durationNs)),
    topPeers: mergeTop(...rs.map((r) => r.topPeers)),
  }),
  runqlat: (rs) => ({
    latencyNs: mergeLatency(rs.map((r) => r.latencyNs)),
    topCommands: mergeTop(...rs.map((r) => r.topCommands)),
  }),
  oomkill: (rs) => ({
    kills: sum(rs, (r) => r.kills),
    topCommands: mergeTop(...rs.map((r) => r.topCommands)),
  }),
  biolatency: (rs) => ({
    ios: sum(rs, (r) => r.ios),
    errors: sum(rs, (r) => r.errors),
    bytesRead: sum(rs, (r) => r.bytesRead),
    bytesWritten: sum(rs, (r) => r.bytesWritten),
    latencyNs: mergeLatency(rs.map((r) => r.latencyNs)),
    topDevices: mergeTop(...rs.map((r) => r.topDevices)),
  }),
  netbytes: (rs) => ({
    bytesSent: sum(rs, (r) => r.bytesSent),
    bytesReceived: sum(rs, (r) => r.bytesReceived),
    packetsSent: sum(rs, (r) => r.packetsSent),
    packetsReceived: sum(rs, (r) => r.packetsReceived),
    topProtocols: mergeTop(...rs.map((r) => r.topProtocols)),
  }),
  profile: (rs) => ({
    samples: sum(rs, (r) => r.samples),
    // Like the top lists: time only when every part has it.
    ...(rs.every((r) => r.cpuNs !== undefined) ? { cpuNs: sum(rs, (r) => r.cpuNs ?? 0) } : {}),
    topFrames: mergeTop(...rs.map((r) => r.topFrames)),
    topStacks: mergeTop(...rs.map((r) => r.topStacks)),
  }),
};

/** Name of each probe's top list. */
export const TOP_LIST_FIELD = {
  exec: 'topCommands',
  syscalls: 'topSyscalls',
  files: 'topPaths',
  tcp: 'topPeers',
  runqlat: 'topCommands',
  oomkill: 'topCommands',
  biolatency: 'topDevices',
  netbytes: 'topProtocols',
  profile: 'topFrames',
} as const satisfies { [N in ProbeName]: keyof ResultOf<N> };

/** Top lists besides TOP_LIST_FIELD, bounded the same way. */
const MORE_TOP_LIST_FIELDS: { readonly [N in ProbeName]?: readonly (keyof ResultOf<N>)[] } = {
  profile: ['topStacks'],
};

/** Every top list of a probe's result, TOP_LIST_FIELD first. */
export function topListFields(probe: ProbeName): string[] {
  return [TOP_LIST_FIELD[probe], ...((MORE_TOP_LIST_FIELDS[probe] ?? []) as string[])];
}

/** The merge of results of one probe; with no results, that probe's zero result. */
export function mergeProbeResults<N extends ProbeName>(probe: N, results: readonly ResultOf<N>[]): ResultOf<N> {
  return (mergers[probe] as Merger<N>)(results);
}

export function emptyProbeResult<N extends ProbeName>(probe: N): ResultOf<N> {
  return mergeProbeResults(probe, []);
}

/** The same result with its top lists cut by `cut` (boundTop for status, foldTop for memory). */
export function withTopList<N extends ProbeName>(
  probe: N,
  result: ResultOf<N>,
  cut: (list: readonly RankedEntry[]) => RankedEntry[],
): ResultOf<N> {
  const out: Record<string, unknown> = { ...result };
  for (const field of topListFields(probe)) out[field] = cut(out[field] as TopEntry[]);
  return out as ResultOf<N>;
}

/** Merges whole per-probe result sets (a profile's results from several nodes, …) probe by probe. */
export function mergeAllProbeResults(sets: readonly ProbeResults[]): ProbeResults {
  const merged: ProbeResults = {};
  for (const probe of PROBE_NAMES) {
    const present = sets.flatMap((s) => (s[probe] === undefined ? [] : [s[probe]]));
    if (present.length > 0) setResult(merged, probe, mergeProbeResults(probe, present as ResultOf<typeof probe>[]));
  }
  return merged;
}

function setResult<N extends ProbeName>(into: ProbeResults, probe: N, result: ResultOf<N>): void {
  (into as Record<N, ResultOf<N>>)[probe] = result;
}
