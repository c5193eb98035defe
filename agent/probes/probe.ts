// The contract between the probe manager and each probe: the kernel side is a
// BPF object under bpf/build, loaded once per node and shared by every profile;
// the user side reads its maps and ring buffers into per-cgroup results.
import type { BpfLink, BpfObject } from '../../native/index.js';
import type { ProbeSpec } from '../../api/probes.js';
import type { ProbeName, ProbeResults } from '../../api/results.js';

/** The result type of probe N (exec → ExecResult, …). */
export type ProbeResult<N extends ProbeName> = NonNullable<ProbeResults[N]>;

/** The options one profile gave probe N, e.g. `{name: 'files', pathPrefixes: ['/etc']}`. */
export type ProbeSpecOf<N extends ProbeName> = Extract<ProbeSpec, { name: N }>;

/**
 * Every probe object has this map: cgroup id (u64, the cgroup2 directory's
 * inode) → struct loupe_target (bpf/loupe.h): the bitmask (u64) of the
 * profile slots that target that cgroup, a dense slot index (u32) and flags
 * (u32). A cgroup that is not in it is not traced; the manager is its only
 * writer.
 */
export const TARGETS_MAP = 'targets';
/** At most this many profiles can share a node's probes (bits in the mask). */
export const MAX_PROFILE_SLOTS = 64;

/** A rare event (exec, exit, TCP close, …) for per-event outputs such as OTLP logs. */
export interface ProbeEvent {
  probe: ProbeName;
  cgroupId: bigint;
  /** Profile slots that wanted this event, from the targets map at the time. */
  profileMask: bigint;
  /** Wall-clock time of the event, in ms since the epoch. */
  timeMs: number;
  /** Flat attributes, named in OpenTelemetry style where a convention exists. */
  attributes: Record<string, string | number>;
}

export type ProbeEventSink = (event: ProbeEvent) => void;

export interface ProbeReader<N extends ProbeName> {
  /**
   * What happened since the previous call, per cgroup id. Top lists are
   * complete (not cut to N) so that merging them stays exact; the caller
   * bounds them.
   */
  collect(): Map<bigint, ProbeResult<N>>;
  /** Stops consuming ring buffers; the object itself is closed by the manager. */
  close(): void;
}

export interface ProbeDefinition<N extends ProbeName = ProbeName> {
  readonly name: N;
  /** One line for `loupe trace --help` and the README's catalog. */
  readonly description: string;
  /** File name under bpf/build, e.g. 'exec.bpf.o'. */
  readonly objectFile: string;
  /** Called after open, before load: set `const volatile` config, map sizes. */
  configure?(obj: BpfObject): void;
  /**
   * Attaches every program of the loaded object; the manager owns the links.
   * `specs`: the options of the profiles using the probe (none: defaults).
   */
  attach(obj: BpfObject, specs?: readonly ProbeSpecOf<N>[]): BpfLink[];
  /**
   * What the links depend on among those options (the profile probe: its
   * sampling rate). When it changes the manager re-attaches: new links on the
   * same loaded object, so its maps and counts are kept. Absent: links do not
   * depend on options.
   */
  attachSetting?(specs: readonly ProbeSpecOf<N>[]): number | string;
  /**
   * Kernel-side settings serving every profile using the loaded probe at once
   * (the syscalls probe: which syscalls get a latency histogram of their own).
   * Called before their cgroups enter the targets map and whenever their
   * options change; per-profile filters are agent/probe-options.ts.
   */
  applyOptions?(obj: BpfObject, specs: readonly ProbeSpecOf<N>[]): void;
  /**
   * The probe's bits of struct loupe_target.flags for one cgroup, from the
   * options of the profiles targeting it (the syscalls probe: one filters
   * syscalls, so their latency is kept apart there). Absent: 0.
   */
  targetFlags?(specs: readonly ProbeSpecOf<N>[]): number;
  /**
   * Mirrors one targets entry where the probe's programs find it faster than
   * in the hash (the syscalls probe: the cgroup's BPF storage). The manager
   * calls it right after it writes an entry (value: struct loupe_target) or
   * deletes one (undefined). Absent: the hash is all there is.
   */
  syncTarget?(obj: BpfObject, cgroupId: bigint, value: Buffer | undefined): void;
  /** Starts reading the loaded object's maps and ring buffers. */
  reader(obj: BpfObject, onEvent: ProbeEventSink): ProbeReader<N>;
}
