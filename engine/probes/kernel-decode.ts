// Kernel structs (bpf/loupe.h, probes/<name>/<name>.h) as JavaScript values:
// decodeStruct reads every member the way its generated layout
// (layout.generated.ts, from the objects' BTF) types it, so no decoder picks
// a width or an offset by hand, and a member C widens changes the decoded
// type (u32: number → u64: bigint) instead of being misread. Also C strings,
// single counters and monotonic timestamps.

/** How a member is read, as hack/gen-layouts.ts names it from BTF. */
export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64' | 'u32[]' | 'u64[]' | 'chars' | 'bytes';

/** A member of a kernel struct, as layout.generated.ts gives it. */
export interface Field {
  readonly offset: number;
  readonly size: number;
  readonly type: FieldType;
}

export interface StructLayout {
  readonly name: string;
  readonly size: number;
  readonly fields: Readonly<Record<string, Field>>;
}

type ValueOf<T extends FieldType> = T extends 'u64' | 's64'
  ? bigint
  : T extends 'u64[]'
    ? bigint[]
    : T extends 'u32[]'
      ? number[]
      : T extends 'chars'
        ? string
        : T extends 'bytes'
          ? Buffer
          : number;

/** cgroup_id → cgroupId: C member names as JavaScript names. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A decoded struct: every member by its C name in camelCase (time_ns → timeNs), typed by its layout. */
export type StructValue<L extends StructLayout> = {
  -readonly [K in keyof L['fields'] & string as CamelCase<K>]: ValueOf<L['fields'][K]['type']>;
};

function readField(buf: Buffer, f: Field): unknown {
  switch (f.type) {
    case 'u8':
      return buf.readUInt8(f.offset);
    case 's8':
      return buf.readInt8(f.offset);
    case 'u16':
      return buf.readUInt16LE(f.offset);
    case 's16':
      return buf.readInt16LE(f.offset);
    case 'u32':
      return buf.readUInt32LE(f.offset);
    case 's32':
      return buf.readInt32LE(f.offset);
    case 'u64':
      return buf.readBigUInt64LE(f.offset);
    case 's64':
      return buf.readBigInt64LE(f.offset);
    case 'u32[]':
      return Array.from({ length: f.size / 4 }, (_, k) => buf.readUInt32LE(f.offset + 4 * k));
    case 'u64[]':
      return Array.from({ length: f.size / 8 }, (_, k) => buf.readBigUInt64LE(f.offset + 8 * k));
    case 'chars':
      return cString(buf, f.offset, f.size);
    case 'bytes':
      return buf.subarray(f.offset, f.offset + f.size);
  }
}

/** Every member of a struct record, after checking the record is the struct's size. */
export function decodeStruct<L extends StructLayout>(buf: Buffer, layout: L): StructValue<L> {
  expectSize(buf, layout.size, `struct ${layout.name}`);
  const value: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(layout.fields)) value[camelCase(name)] = readField(buf, field);
  return value as StructValue<L>;
}

function writeField(buf: Buffer, f: Field, value: unknown): void {
  switch (f.type) {
    case 'u64':
      buf.writeBigUInt64LE(value as bigint, f.offset);
      return;
    case 'u32':
      buf.writeUInt32LE(value as number, f.offset);
      return;
    default:
      throw new Error(`writing a ${f.type} member is not supported; user space writes only u32 and u64 members`);
  }
}

/** A struct record of the layout's size with every member written (the targets map's values). */
export function encodeStruct<L extends StructLayout>(layout: L, value: StructValue<L>): Buffer {
  const buf = Buffer.alloc(layout.size);
  for (const [name, field] of Object.entries(layout.fields)) writeField(buf, field, (value as Record<string, unknown>)[camelCase(name)]);
  return buf;
}

/** A NUL-terminated char[len] at offset; invalid UTF-8 becomes U+FFFD. */
export function cString(buf: Buffer, offset: number, len: number): string {
  const field = buf.subarray(offset, offset + len);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

/** Throws when a record is not the size of its C struct: the object and this decoder disagree. */
export function expectSize(buf: Buffer, size: number, what: string): void {
  if (buf.length !== size) {
    throw new Error(
      `${what}: got ${buf.length} bytes, expected ${size}; rebuild bpf/ (make -C bpf) so the object matches the agent`,
    );
  }
}

/** A map key that is a cgroup id (__u64). */
export function decodeCgroupId(buf: Buffer): bigint {
  expectSize(buf, 8, 'cgroup id');
  return buf.readBigUInt64LE(0);
}

/** A map value that is one __u64 counter. */
export function decodeCounter(buf: Buffer): number {
  expectSize(buf, 8, 'counter');
  return Number(buf.readBigUInt64LE(0));
}

/**
 * bpf_ktime_get_ns() (CLOCK_MONOTONIC) as wall-clock ms since the epoch.
 * process.hrtime reads the same clock on Linux, so their difference is exact
 * up to the two reads here.
 */
export function monotonicNsToEpochMs(ns: bigint): number {
  const ageNs = process.hrtime.bigint() - ns;
  return Date.now() - Number(ageNs) / 1e6;
}
