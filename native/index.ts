// The typed face of the native addon (native/src, over the system libbpf):
// objects, programs, maps, links and ring buffers, in the shape of
// cilium/ebpf. Every other part of Loupe reaches the kernel through this file.
//
// Ownership: a BpfObject owns everything made from it. Links stay attached
// until destroy() or until the object is closed (or garbage-collected); a
// forgotten BpfLink does not detach its program. Wrappers of programs, maps,
// links and ring buffers keep their object alive, and an open RingBuffer keeps
// itself (and so its object) alive, like any active handle.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A failure of the kernel or libbpf, with what they said about it. */
export class BpfError extends Error {
  override readonly name = 'BpfError';
  constructor(
    message: string,
    /** The positive errno, e.g. 13. */
    readonly errno: number,
    /** Its name, e.g. 'EACCES'. */
    readonly code: string,
    /** The rejected program's own verifier log, only when the verifier rejected a program. */
    readonly verifierLog?: string,
    /** What libbpf printed while the call failed. */
    readonly libbpfLog?: string,
    /** The program the verifier rejected (its C function's name), with verifierLog. */
    readonly program?: string,
  ) {
    super(message);
  }
}

// ---- the raw binding (native/src); nothing outside this file sees it ----

interface RodataLayout {
  size: number;
  kind: 'int' | 'bool' | 'bytes';
  signed: boolean;
}

interface NativeObject {
  readonly name: string;
  readonly loaded: boolean;
  readonly closed: boolean;
  rodataLayout(variable: string): RodataLayout;
  writeRodata(variable: string, value: Buffer): void;
  setMaxEntries(map: string, n: number): void;
  setAutoload(program: string, enabled: boolean): void;
  setAutocreate(map: string, enabled: boolean): void;
  loadAsync(): Promise<void>;
  programNames(): string[];
  program(name: string): NativeProgram;
  mapNames(): string[];
  map(name: string): NativeMap;
  close(): void;
}

interface NativeProgram {
  readonly name: string;
  readonly section: string;
  readonly autoload: boolean;
  readonly id: number;
  readonly fd: number;
  attach(): NativeLink;
  attachTracepoint(category: string, name: string): NativeLink;
  attachRawTracepoint(name: string): NativeLink;
  attachUprobe(binaryPath: string, functionName: string | undefined, offset: number, pid: number, retprobe: boolean): NativeLink;
  attachPerfEvent(cpu: number, pid: number, type: number, config: number, periodOrFrequency: number, useFrequency: boolean): NativeLink;
  attachCgroup(cgroupPath: string): NativeLink;
  stats(): ProgramStats;
}

interface NativeLink {
  readonly id: number;
  readonly destroyed: boolean;
  destroy(): void;
}

interface NativeMap {
  readonly name: string;
  readonly type: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly fd: number;
  readonly id: number;
  readonly perCpu: boolean;
  lookup(key: Buffer): Buffer | undefined;
  update(key: Buffer, value: Buffer, flags: number): void;
  delete(key: Buffer): boolean;
  keys(): Buffer[];
  entries(): Array<[Buffer, Buffer]>;
  lookupAndDeleteBatch(): Array<[Buffer, Buffer]>;
  openRingBuffer(onRecord: (data: Buffer) => void, owner: object): NativeRingBuffer;
  updateCgroupStorage(mountPoint: string, cgroupId: bigint, value: Buffer, flags: number): boolean;
  deleteCgroupStorage(mountPoint: string, cgroupId: bigint): boolean;
}

interface NativeRingBuffer {
  readonly closed: boolean;
  consume(): number;
  close(): void;
}

interface NativeOwnedFd {
  readonly closed: boolean;
  close(): void;
}

interface NativeAddon {
  NativeObject: { open(source: string | Buffer, name?: string): NativeObject };
  possibleCpus(): number;
  enableStats(): NativeOwnedFd;
  mapTypeSupported(typeName: string): boolean;
  canOpenCgroupById(mountPoint: string): boolean;
  kernelHasRawTracepoint(name: string): boolean;
  mountTracefs(mountPoint: string): void;
  setErrorClass(errorClass: typeof BpfError): void;
}

const ADDON_FILE = 'build/Release/loupe_native.node';

let loadedAddon: NativeAddon | undefined;

// Loaded on first use, so that importing this module (for types, or in unit
// tests with fakes) works on machines where the addon is not built.
function addon(): NativeAddon {
  if (loadedAddon !== undefined) return loadedAddon;
  const here = dirname(fileURLToPath(import.meta.url));
  // native/index.ts runs from native/; its compiled copy from dist/native/.
  const candidates = [join(here, ADDON_FILE), join(here, '..', '..', 'native', ADDON_FILE)];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(`the native addon is not built (looked for ${candidates.join(', ')}): run \`npm run build:native\``);
  }
  const native = createRequire(import.meta.url)(found) as NativeAddon;
  native.setErrorClass(BpfError);
  loadedAddon = native;
  return native;
}

// ---- public API ----

/** Number of possible CPUs: the count of values a per-CPU map holds per key. */
export function possibleCpus(): number {
  return addon().possibleCpus();
}

/**
 * Turns on the kernel's run-time statistics of BPF programs
 * (BPF_ENABLE_STATS(BPF_STATS_RUN_TIME)); they stay on until close().
 */
export function enableStats(): { close(): void } {
  const handle = addon().enableStats();
  return { close: () => handle.close() };
}

/**
 * Whether this kernel can create maps of the type libbpf calls typeName
 * ('cgrp_storage', 'task_storage', …); throws for a name libbpf does not know.
 */
export function mapTypeSupported(typeName: string): boolean {
  return addon().mapTypeSupported(typeName);
}

/**
 * Whether the running kernel has the tracepoint `name` ('sock_send_length')
 * for tp_btf/ and raw_tp/ programs, by its BTF: a program on one it lacks
 * fails to load.
 */
export function kernelHasRawTracepoint(name: string): boolean {
  return addon().kernelHasRawTracepoint(name);
}

/**
 * Whether this process may open cgroups by id (what BpfMap.updateCgroupStorage
 * does) under the cgroup2 mount at mountPoint: false without CAP_DAC_READ_SEARCH.
 */
export function canOpenCgroupById(mountPoint: string): boolean {
  return addon().canOpenCgroupById(mountPoint);
}

/** Where libbpf looks for tracefs when debugfs does not provide it. */
const TRACEFS_MOUNT_POINT = '/sys/kernel/tracing';
/** libbpf uses debugfs's tracing directory instead whenever that exists. */
const DEBUGFS_TRACING = '/sys/kernel/debug/tracing';

/** Tracefs is missing and could not be mounted: tracefs-backed tracepoints cannot attach. */
export class TracefsUnavailableError extends Error {
  override readonly name = 'TracefsUnavailableError';
  constructor(cause: BpfError) {
    super(
      `tracefs is not mounted at ${TRACEFS_MOUNT_POINT} and mounting it failed (${cause.code}): ` +
        `mount it on the node with \`mount -t tracefs nodev ${TRACEFS_MOUNT_POINT}\`, ` +
        `mount the host's ${TRACEFS_MOUNT_POINT} into the agent, or give the agent CAP_SYS_ADMIN so it mounts tracefs itself`,
      { cause },
    );
  }
}

/**
 * Makes sure tracefs is there for tracepoints that need it (tracepoint/ and
 * tp/ sections; tp_btf/ and raw_tp/ do not): mounts it when missing. Throws
 * TracefsUnavailableError when it is missing and this process may not mount it.
 */
function ensureTracefs(): void {
  if (existsSync(join(TRACEFS_MOUNT_POINT, 'events')) || existsSync(join(DEBUGFS_TRACING, 'events'))) return;
  try {
    addon().mountTracefs(TRACEFS_MOUNT_POINT);
  } catch (err) {
    if (err instanceof BpfError) throw new TracefsUnavailableError(err);
    throw err;
  }
}

/** Whether a program in this ELF section attaches through tracefs. */
function sectionNeedsTracefs(section: string): boolean {
  return /^(tracepoint|tp)\//.test(section);
}

export interface ProgramStats {
  /** Total time spent in the program while stats were enabled. */
  runTimeNs: bigint;
  runCount: bigint;
}

export interface UprobeOptions {
  /** Path of the executable or library, or a library name like 'libc.so.6'. */
  binaryPath: string;
  /** Symbol to attach to; offset is then relative to it. */
  functionName?: string;
  offset?: number;
  /** Only this process; default every process that maps the binary. */
  pid?: number;
  retprobe?: boolean;
}

export interface PerfEventOptions {
  cpu: number;
  /** Only this process; default every process on the CPU. */
  pid?: number;
  type: 'software' | 'hardware';
  /** PERF_COUNT_SW_* or PERF_COUNT_HW_*; see PerfSoftwareEvent, PerfHardwareEvent. */
  config: number;
  /** Samples per second; the default when samplePeriod is not given is 99. */
  frequency?: number;
  /** Events between samples (nanoseconds for cpu-clock); excludes frequency. */
  samplePeriod?: number;
}

/** perf_event config values for type 'software' (linux/perf_event.h). */
export const PerfSoftwareEvent = { cpuClock: 0, taskClock: 1 } as const;
/** perf_event config values for type 'hardware' (linux/perf_event.h). */
export const PerfHardwareEvent = { cpuCycles: 0, instructions: 1 } as const;

const PERF_TYPE = { hardware: 0, software: 1 } as const;
const DEFAULT_PERF_FREQUENCY_HZ = 99;

const UPDATE_FLAGS = { any: 0, noexist: 1, exist: 2 } as const;

export class BpfObject {
  readonly #native: NativeObject;
  readonly #programs = new Map<string, BpfProgram>();
  readonly #maps = new Map<string, BpfMap>();

  private constructor(native: NativeObject) {
    this.#native = native;
  }

  /** Opens an ELF object (a path, or its bytes; name then names the object). */
  static open(source: string | Buffer, name?: string): BpfObject {
    return new BpfObject(addon().NativeObject.open(source, name));
  }

  /** libbpf's name of the object (the file name without .o, or the name given). */
  get name(): string {
    return this.#native.name;
  }

  get loaded(): boolean {
    return this.#native.loaded;
  }

  get closed(): boolean {
    return this.#native.closed;
  }

  /**
   * Sets a `const volatile` global before loadAsync(). Integers and bools take a
   * number, bigint or boolean that must fit the variable's type; anything
   * else takes a Buffer of exactly its size.
   */
  setRodata(variable: string, value: number | bigint | boolean | Buffer): void {
    const layout = this.#native.rodataLayout(variable);
    this.#native.writeRodata(variable, encodeRodata(variable, layout, value));
  }

  setMaxEntries(map: string, n: number): void {
    this.#native.setMaxEntries(map, n);
  }

  setAutoload(program: string, enabled: boolean): void {
    this.#native.setAutoload(program, enabled);
  }

  /** false: loading does not create the map (one its programs only name in code the verifier drops). */
  setAutocreate(map: string, enabled: boolean): void {
    this.#native.setAutocreate(map, enabled);
  }

  /**
   * Loads maps and programs into the kernel on a worker thread, so the event
   * loop keeps running while the verifier works. A rejected program rejects
   * with a BpfError naming it (program) and carrying its verifier log.
   * Nothing else may touch the object until the promise settles; close()
   * meanwhile frees it once the load ends.
   */
  async loadAsync(): Promise<void> {
    await this.#native.loadAsync(); // async: misuse (already loaded, closed) rejects too, rather than throwing
  }

  /** Every program of the ELF, loaded or not (setAutoload before load picks among them). */
  programs(): BpfProgram[] {
    return this.#native.programNames().map((name) => this.program(name));
  }

  /** The programs the object loads: all but those setAutoload(name, false) left out (another kernel's variant), which have no fd, id or statistics. */
  loadedPrograms(): BpfProgram[] {
    return this.programs().filter((p) => p.autoload);
  }

  /** The program whose C function is called name. */
  program(name: string): BpfProgram {
    let program = this.#programs.get(name);
    if (program === undefined) {
      program = new BpfProgram(this, this.#native.program(name));
      this.#programs.set(name, program);
    }
    return program;
  }

  maps(): BpfMap[] {
    return this.#native.mapNames().map((name) => this.map(name));
  }

  map(name: string): BpfMap {
    let map = this.#maps.get(name);
    if (map === undefined) {
      map = new BpfMap(this, this.#native.map(name));
      this.#maps.set(name, map);
    }
    return map;
  }

  /** Closes its ring buffers, destroys its links, frees maps and programs. Idempotent. */
  close(): void {
    this.#native.close();
  }
}

export class BpfProgram {
  /** Keeps the object alive while the program is reachable. */
  readonly object: BpfObject;
  readonly #native: NativeProgram;

  /** @internal made by BpfObject.program() */
  constructor(object: BpfObject, native: NativeProgram) {
    this.object = object;
    this.#native = native;
  }

  get name(): string {
    return this.#native.name;
  }

  /** The ELF section, e.g. 'tp_btf/sched_process_exec'. */
  get section(): string {
    return this.#native.section;
  }

  /** Whether the object loads (or loaded) this program: setAutoload(name, false) leaves it out. */
  get autoload(): boolean {
    return this.#native.autoload;
  }

  get id(): number {
    return this.#native.id;
  }

  get fd(): number {
    return this.#native.fd;
  }

  /** Attaches where the section says (tp_btf/, raw_tp/, tracepoint/, uprobe/…); mounts tracefs for tracepoint/ when missing. */
  attach(): BpfLink {
    if (sectionNeedsTracefs(this.section)) ensureTracefs();
    return new BpfLink(this, this.#native.attach());
  }

  attachTracepoint(category: string, name: string): BpfLink {
    ensureTracefs();
    return new BpfLink(this, this.#native.attachTracepoint(category, name));
  }

  attachRawTracepoint(name: string): BpfLink {
    return new BpfLink(this, this.#native.attachRawTracepoint(name));
  }

  attachUprobe(o: UprobeOptions): BpfLink {
    const native = this.#native.attachUprobe(o.binaryPath, o.functionName, o.offset ?? 0, o.pid ?? -1, o.retprobe ?? false);
    return new BpfLink(this, native);
  }

  /** perf_event_open on one CPU, then attach; the link owns the perf event. */
  attachPerfEvent(o: PerfEventOptions): BpfLink {
    if (o.frequency !== undefined && o.samplePeriod !== undefined) {
      throw new TypeError(`attachPerfEvent(${this.name}): give frequency or samplePeriod, not both`);
    }
    const useFrequency = o.samplePeriod === undefined;
    const rate = o.samplePeriod ?? o.frequency ?? DEFAULT_PERF_FREQUENCY_HZ;
    const native = this.#native.attachPerfEvent(o.cpu, o.pid ?? -1, PERF_TYPE[o.type], o.config, rate, useFrequency);
    return new BpfLink(this, native);
  }

  /** Attaches to a cgroup2 directory (e.g. for cgroup_skb programs). */
  attachCgroup(cgroupPath: string): BpfLink {
    return new BpfLink(this, this.#native.attachCgroup(cgroupPath));
  }

  /** Run time and count; they grow only while enableStats() is on. */
  stats(): ProgramStats {
    return this.#native.stats();
  }
}

export class BpfLink {
  /** Keeps the program, and so its object, alive. */
  readonly program: BpfProgram;
  readonly #native: NativeLink;

  /** @internal made by BpfProgram.attach*() */
  constructor(program: BpfProgram, native: NativeLink) {
    this.program = program;
    this.#native = native;
  }

  /** The kernel's link id (0 for legacy perf-event attachments); readable after destroy(). */
  get id(): number {
    return this.#native.id;
  }

  get destroyed(): boolean {
    return this.#native.destroyed;
  }

  /** Detaches now. Idempotent. */
  destroy(): void {
    this.#native.destroy();
  }
}

export class BpfMap {
  /** Keeps the object alive while the map is reachable. */
  readonly object: BpfObject;
  readonly #native: NativeMap;

  /** @internal made by BpfObject.map() */
  constructor(object: BpfObject, native: NativeMap) {
    this.object = object;
    this.#native = native;
  }

  get name(): string {
    return this.#native.name;
  }

  /** libbpf's name of the map type: 'hash', 'percpu_array', 'ringbuf', 'lru_hash', … */
  get type(): string {
    return this.#native.type;
  }

  get keySize(): number {
    return this.#native.keySize;
  }

  get valueSize(): number {
    return this.#native.valueSize;
  }

  get maxEntries(): number {
    return this.#native.maxEntries;
  }

  get fd(): number {
    return this.#native.fd;
  }

  get id(): number {
    return this.#native.id;
  }

  /** Values are possibleCpus() slots of valueSize rounded up to 8 bytes, concatenated. */
  get perCpu(): boolean {
    return this.#native.perCpu;
  }

  lookup(key: Buffer): Buffer | undefined {
    return this.#native.lookup(key);
  }

  update(key: Buffer, value: Buffer, flags: 'any' | 'noexist' | 'exist' = 'any'): void {
    this.#native.update(key, value, UPDATE_FLAGS[flags]);
  }

  /** false if the key was not there. */
  delete(key: Buffer): boolean {
    return this.#native.delete(key);
  }

  keys(): Buffer[] {
    return this.#native.keys();
  }

  entries(): Array<[Buffer, Buffer]> {
    return this.#native.entries();
  }

  /** Takes every entry out of the map (in batches where the kernel can). */
  lookupAndDeleteBatch(): Array<[Buffer, Buffer]> {
    return this.#native.lookupAndDeleteBatch();
  }

  /** Splits a per-CPU value into one valueSize Buffer per CPU (views, not copies). */
  perCpuValues(value: Buffer): Buffer[] {
    if (!this.perCpu) throw new TypeError(`map '${this.name}' is a ${this.type}, not a per-CPU map`);
    const stride = Math.ceil(this.valueSize / 8) * 8;
    if (value.length % stride !== 0) {
      throw new RangeError(`map '${this.name}': a per-CPU value is a multiple of ${stride} bytes, got ${value.length}`);
    }
    const values: Buffer[] = [];
    for (let offset = 0; offset < value.length; offset += stride) {
      values.push(value.subarray(offset, offset + this.valueSize));
    }
    return values;
  }

  /**
   * Sets the value of a cgrp_storage map for the cgroup2 cgroup with this id
   * (its directory's inode), found through the cgroup2 mount at mountPoint.
   * false when there is no such cgroup. Needs CAP_DAC_READ_SEARCH
   * (open_by_handle_at), besides what BPF needs.
   */
  updateCgroupStorage(mountPoint: string, cgroupId: bigint, value: Buffer, flags: 'any' | 'noexist' | 'exist' = 'any'): boolean {
    return this.#native.updateCgroupStorage(mountPoint, cgroupId, value, UPDATE_FLAGS[flags]);
  }

  /** Deletes a cgrp_storage value, as updateCgroupStorage finds it; false when the cgroup or its value is not there. */
  deleteCgroupStorage(mountPoint: string, cgroupId: bigint): boolean {
    return this.#native.deleteCgroupStorage(mountPoint, cgroupId);
  }

  /** @internal for RingBuffer */
  openRingBuffer(onRecord: (data: Buffer) => void, owner: RingBuffer): NativeRingBuffer {
    return this.#native.openRingBuffer(onRecord, owner);
  }
}

/**
 * Reads a ringbuf map on the Node event loop: onRecord gets a copy of each
 * record. What onRecord throws goes to process 'uncaughtException' (or, from
 * consume(), to its caller).
 */
export class RingBuffer {
  readonly map: BpfMap;
  readonly #native: NativeRingBuffer;

  constructor(map: BpfMap, onRecord: (data: Buffer) => void) {
    this.map = map;
    this.#native = map.openRingBuffer(onRecord, this);
  }

  get closed(): boolean {
    return this.#native.closed;
  }

  /** Delivers what is in the ring now, synchronously; returns the number of records. */
  consume(): number {
    return this.#native.consume();
  }

  /** Stops reading. Idempotent; safe inside onRecord. */
  close(): void {
    this.#native.close();
  }
}

function encodeRodata(variable: string, layout: RodataLayout, value: number | bigint | boolean | Buffer): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (layout.kind === 'bytes') {
    throw new TypeError(`setRodata('${variable}'): the variable is ${layout.size} bytes of non-integer type; pass a Buffer`);
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new TypeError(`setRodata('${variable}'): ${value} is not an integer`);
  }
  const integer = typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(value);
  const bits = BigInt(layout.size * 8);
  const min = layout.signed ? -(1n << (bits - 1n)) : 0n;
  const max = layout.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (integer < min || integer > max) {
    throw new RangeError(
      `setRodata('${variable}'): ${integer} does not fit its ${layout.signed ? 'signed' : 'unsigned'} ${layout.size}-byte type`,
    );
  }
  const bytes = Buffer.alloc(layout.size);
  let rest = BigInt.asUintN(Number(bits), integer);
  for (let i = 0; i < layout.size; i++) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return endianness() === 'LE' ? bytes : bytes.reverse();
}
