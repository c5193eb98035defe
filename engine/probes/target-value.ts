// struct loupe_target (bpf/loupe.h), the value of every probe's targets map:
// which profiles trace a cgroup, its slot, the probe's own flags. Written by
// the probe manager, read back by the per-slot readers.
import { z } from 'zod';
import { expectSize, readU32, readU64 } from './kernel-decode.js';
import { layouts } from './layouts.generated.js';

const TARGET = layouts.loupe_target;

const TargetValueSchema = z.object({
  profiles: z.bigint().min(0n).max(0xffff_ffff_ffff_ffffn),
  slot: z.number().int().min(0).max(0xffff_ffff),
  flags: z.number().int().min(0).max(0xffff_ffff),
});
export type TargetValue = z.infer<typeof TargetValueSchema>;

export function decodeTargetValue(buf: Buffer): TargetValue {
  expectSize(buf, TARGET.size, 'struct loupe_target');
  const f = TARGET.fields;
  return TargetValueSchema.parse({ profiles: readU64(buf, f.profiles), slot: readU32(buf, f.slot), flags: readU32(buf, f.flags) });
}

export function encodeTargetValue(value: TargetValue): Buffer {
  const f = TARGET.fields;
  const buf = Buffer.alloc(TARGET.size);
  buf.writeBigUInt64LE(value.profiles, f.profiles.offset);
  buf.writeUInt32LE(value.slot, f.slot.offset);
  buf.writeUInt32LE(value.flags, f.flags.offset);
  return buf;
}
