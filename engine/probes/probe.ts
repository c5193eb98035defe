// The contract between the probe manager and each probe's kernel side (its
// descriptor's `kernel`, probes/<name>/kernel.ts): a BPF object under
// bpf/build, loaded once per node and shared by every profile, and the user
// side that reads its maps and ring buffers into per-cgroup results.
import type { BpfLink, BpfObject } from '../../native/index.js';

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
  /** The probe's name. */
  probe: string;
  cgroupId: bigint;
  /** Profile slots that wanted this event, from the targets map at the time. */
  profileMask: bigint;
  /** Wall-clock time of the event, in ms since the epoch. */
  timeMs: number;
  /** Flat attributes, named in OpenTelemetry style where a convention exists. */
  attributes: Record<string, string | number>;
}

export type ProbeEventSink = (event: ProbeEvent) => void;

export interface ProbeReader<R = unknown> {
  /**
   * What happened since the previous call, per cgroup id. Top lists are
   * complete (not cut to N) so that merging them stays exact; the caller
   * bounds them.
   */
  collect(): Map<bigint, R>;
  /** Stops consuming ring buffers; the object itself is closed by the manager. */
  close(): void;
}

/**
 * Links that depend on what the targeted cgroups' processes run rather than
 * on the kernel (a uprobe on each library they map), made as those processes
 * come and go. One per loaded object, so it can remember what it attached.
 */
export interface TargetLinker {
  /**
   * Links to add for the processes of these cgroups (every cgroup the probe
   * targets now). The manager calls it after each change of targets and
   * before each collect, so it should only look at what is new. The manager
   * owns the links it returns and destroys them when the probe unloads.
   */
  link(cgroupIds: readonly bigint[]): TargetLinks;
}

export interface TargetLinks {
  links: BpfLink[];
  /** What could not be attached and why, each said once; logged by the manager. */
  problems: string[];
}

/** R: the probe's result; S: the options one profile gives it. */
export interface ProbeDefinition<R = unknown, S = unknown> {
  /** File name under bpf/build, e.g. 'exec.bpf.o'. */
  readonly objectFile: string;
  /** Called after open, before load: set `const volatile` config, map sizes. */
  configure?(obj: BpfObject): void;
  /**
   * Attaches every program of the loaded object; the manager owns the links.
   * `specs`: the options of the profiles using the probe (none: defaults).
   */
  attach(obj: BpfObject, specs?: readonly S[]): BpfLink[];
  /**
   * For programs that attach to what the targeted processes run (uprobes on
   * a library): the linker of a newly loaded object. Absent: `attach` is all.
   */
  targetLinker?(obj: BpfObject): TargetLinker;
  /**
   * What the links depend on among those options (the profile probe: its
   * sampling rate). When it changes the manager re-attaches: new links on the
   * same loaded object, so its maps and counts are kept. Absent: links do not
   * depend on options.
   */
  attachSetting?(specs: readonly S[]): number | string;
  /**
   * Kernel-side settings serving every profile using the loaded probe at once
   * (the syscalls probe: which syscalls get a latency histogram of their own).
   * Called before their cgroups enter the targets map and whenever their
   * options change; per-profile filters are agent/probe-options.ts.
   */
  applyOptions?(obj: BpfObject, specs: readonly S[]): void;
  /**
   * The probe's bits of struct loupe_target.flags for one cgroup, from the
   * options of the profiles targeting it (the syscalls probe: one filters
   * syscalls, so their latency is kept apart there). Absent: 0.
   */
  targetFlags?(specs: readonly S[]): number;
  /**
   * Mirrors one targets entry where the probe's programs find it faster than
   * in the hash (the syscalls probe: the cgroup's BPF storage). The manager
   * calls it right after it writes an entry (value: struct loupe_target) or
   * deletes one (undefined). Absent: the hash is all there is.
   */
  syncTarget?(obj: BpfObject, cgroupId: bigint, value: Buffer | undefined): void;
  /**
   * Why one profile's options cannot be served on this node (a syscall its
   * architecture lacks); undefined when they can. Admission accepts what any
   * node might serve, so this is where a node says no. Absent: always can.
   */
  optionsError?(spec: S): string | undefined;
  /**
   * What a profile with these options gets of one cgroup's delta, for options
   * profiles sharing the programs set differently (files.pathPrefixes,
   * syscalls.only): a public result (no reader-internal fields), or undefined
   * when nothing passes. Absent: the whole delta.
   */
  forProfile?(spec: S, delta: R): R | undefined;
  /** Starts reading the loaded object's maps and ring buffers. */
  reader(obj: BpfObject, onEvent: ProbeEventSink): ProbeReader<R>;
}
