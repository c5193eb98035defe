// struct loupe_target (bpf/loupe.h), the value of every probe's targets map:
// which profiles trace a cgroup, its slot, the probe's own flags. Written by
// the probe manager, read back by the per-slot readers.
import { z } from 'zod';
import { decodeStruct, encodeStruct } from './kernel-decode.js';
import { layouts } from './layouts.generated.js';

const TARGET = layouts.loupe_target;

const TargetValueSchema = z.object({
  profiles: z.bigint().min(0n).max(0xffff_ffff_ffff_ffffn),
  slot: z.number().int().min(0).max(0xffff_ffff),
  flags: z.number().int().min(0).max(0xffff_ffff),
});
export type TargetValue = z.infer<typeof TargetValueSchema>;

export function decodeTargetValue(buf: Buffer): TargetValue {
  return TargetValueSchema.parse(decodeStruct(buf, TARGET));
}

export function encodeTargetValue(value: TargetValue): Buffer {
  return encodeStruct(TARGET, TargetValueSchema.parse(value));
}
