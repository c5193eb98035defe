// The contract between the probe manager and each probe: the kernel side is a
// BPF object under bpf/build, loaded once per node and shared by every profile;
// the user side reads its maps and ring buffers into per-cgroup results.
import type { BpfLink, BpfObject } from '../../native/index.js';
import type { ProbeName, ProbeResults } from '../../api/results.js';

/** The result type of probe N (exec → ExecResult, …). */
export type ProbeResult<N extends ProbeName> = NonNullable<ProbeResults[N]>;

/**
 * Every probe object has this map: cgroup id (u64, the cgroup2 directory's
 * inode) → bitmask (u64) of the profile slots that target that cgroup. A
 * cgroup that is not in it is not traced; the manager is its only writer.
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
  /** Attaches every program of the loaded object; the manager owns the links. */
  attach(obj: BpfObject): BpfLink[];
  /** Starts reading the loaded object's maps and ring buffers. */
  reader(obj: BpfObject, onEvent: ProbeEventSink): ProbeReader<N>;
}
