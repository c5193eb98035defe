// profile.h's maps → checked values: the sample-count key and value and
// the stack trace map's frames.
import { z } from 'zod';
import { decodeStruct, expectSize } from '../../engine/probes/kernel-decode.js';
import { layouts } from './layout.generated.js';

const KEY = layouts.profile_key;
export const PROFILE_KEY_SIZE = KEY.size;
/** PROFILE_MAX_DEPTH: addresses per stack trace map value. */
export const PROFILE_MAX_DEPTH = 127;
const EFAULT = 14;

const ProfileKeySchema = z.object({
  cgroupId: z.bigint().min(0n),
  tgid: z.number().int().min(0),
  /** Stack ids: >= 0 an entry of `stacks`; otherwise the negative errno of bpf_get_stackid. */
  userStackId: z.number().int(),
  kernelStackId: z.number().int(),
  comm: z.string(),
});
export type ProfileKey = z.infer<typeof ProfileKeySchema>;

export function decodeProfileKey(buf: Buffer): ProfileKey {
  return ProfileKeySchema.parse(decodeStruct(buf, KEY));
}

const COUNT = layouts.profile_count;

const ProfileCountSchema = z.object({
  samples: z.number().int().min(0),
  /** The samples' periods summed: their CPU time. */
  cpuNs: z.number().int().min(0),
});
export type ProfileCount = z.infer<typeof ProfileCountSchema>;

export function decodeProfileCount(buf: Buffer): ProfileCount {
  const c = decodeStruct(buf, COUNT);
  return ProfileCountSchema.parse({ samples: Number(c.samples), cpuNs: Number(c.cpuNs) });
}

/** A stack id as a map key (u32). */
export function encodeStackId(id: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(id);
  return key;
}

/** A stack trace map value: addresses leaf first, up to the first 0. */
export function decodeStack(buf: Buffer): bigint[] {
  expectSize(buf, PROFILE_MAX_DEPTH * 8, 'stack trace');
  const addrs: bigint[] = [];
  for (let off = 0; off < buf.length; off += 8) {
    const addr = buf.readBigUInt64LE(off);
    if (addr === 0n) break;
    addrs.push(addr);
  }
  return addrs;
}

/**
 * What a negative stack id means: -EFAULT is "no such stack" (a kernel thread
 * has no user stack; user code has no kernel stack); anything else (-EEXIST
 * on a hash collision, -ENOMEM when the map is full) lost a stack that was there.
 */
export function stackIdLost(id: number): boolean {
  return id < 0 && id !== -EFAULT;
}
