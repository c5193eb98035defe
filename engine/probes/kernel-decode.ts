// Small readers for the C types in kernel structs (bpf/*.h), shared by the
// probes' decoders: fixed-size strings, u64 counters, monotonic timestamps,
// and struct fields at the offsets layouts.generated.ts has from the objects' BTF.

/** A member of a kernel struct, as layouts.generated.ts gives it. */
export interface Field {
  readonly offset: number;
  readonly size: number;
}

/** Throws when C changed a member's width and the decoder still reads the old one. */
function width(field: Field, size: number): number {
  if (field.size !== size) throw new Error(`a struct member at offset ${field.offset} is ${field.size} bytes, its reader expects ${size}: update the decoder`);
  return field.offset;
}

export const readU64 = (buf: Buffer, field: Field): bigint => buf.readBigUInt64LE(width(field, 8));
export const readU32 = (buf: Buffer, field: Field): number => buf.readUInt32LE(width(field, 4));
export const readI32 = (buf: Buffer, field: Field): number => buf.readInt32LE(width(field, 4));
export const readU16 = (buf: Buffer, field: Field): number => buf.readUInt16LE(width(field, 2));
/** A char[N] member as a string (see cString). */
export const readChars = (buf: Buffer, field: Field): string => cString(buf, field.offset, field.size);
/** A __u64[N] member. */
export function readU64s(buf: Buffer, field: Field & { readonly elementSize?: number }): bigint[] {
  width({ offset: field.offset, size: field.elementSize ?? field.size }, 8);
  return Array.from({ length: field.size / 8 }, (_, k) => buf.readBigUInt64LE(field.offset + 8 * k));
}
/** A __u8[N] member, not copied. */
export const readBytes = (buf: Buffer, field: Field): Buffer => buf.subarray(field.offset, field.offset + field.size);

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
