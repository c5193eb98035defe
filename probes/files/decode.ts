// files.h's map entries (struct file_key → struct file_counts, and
// cgroup id → struct file_counts for opens that found the map full) →
// per-cgroup FilesResults.
import { z } from 'zod';
import type { FilesResult } from './files.js';
import { decodeCgroupId, decodeStruct } from '../../engine/probes/kernel-decode.js';
import { layouts } from './layout.generated.js';
import { TopList } from '../../engine/probes/top-list.js';

const KEY = layouts.file_key;
const COUNTS = layouts.file_counts;
export const FILE_KEY_SIZE = KEY.size;
export const FILE_COUNTS_SIZE = COUNTS.size;
/** What an open counts under when the kernel could not read its path (EFAULT). */
export const UNREADABLE_PATH = '(unreadable)';

const count = z.bigint().min(0n).transform(Number);

export const FileKeySchema = z.object({
  cgroupId: z.bigint().min(0n),
  path: z.string().transform((p) => (p === '' ? UNREADABLE_PATH : p)),
});
export type FileKey = z.output<typeof FileKeySchema>;

export const FileCountsSchema = z
  .object({ opens: count, errors: count })
  .refine((c) => c.errors <= c.opens, 'a path cannot fail more often than it is opened');
export type FileCounts = z.output<typeof FileCountsSchema>;

export function decodeFileKey(buf: Buffer): FileKey {
  return FileKeySchema.parse(decodeStruct(buf, KEY));
}

export function decodeFileCounts(buf: Buffer): FileCounts {
  return FileCountsSchema.parse(decodeStruct(buf, COUNTS));
}

/**
 * One drain of open_counts and open_dropped. Dropped opens are in the totals
 * but in no path's entry, so totals stay exact when paths are too many.
 */
export function filesResults(
  pathCounts: Iterable<readonly [Buffer, Buffer]>,
  droppedCounts: Iterable<readonly [Buffer, Buffer]>,
): Map<bigint, FilesResult> {
  const tallies = new Map<bigint, { opens: number; errors: number; paths: TopList }>();
  const tallyOf = (cgroupId: bigint) => {
    let t = tallies.get(cgroupId);
    if (!t) {
      t = { opens: 0, errors: 0, paths: new TopList(true) };
      tallies.set(cgroupId, t);
    }
    return t;
  };
  for (const [key, value] of pathCounts) {
    const { cgroupId, path } = decodeFileKey(key);
    const c = decodeFileCounts(value);
    const t = tallyOf(cgroupId);
    t.opens += c.opens;
    t.errors += c.errors;
    t.paths.add(path, c.opens, c.errors);
  }
  for (const [key, value] of droppedCounts) {
    const c = decodeFileCounts(value);
    const t = tallyOf(decodeCgroupId(key));
    t.opens += c.opens;
    t.errors += c.errors;
  }
  const results = new Map<bigint, FilesResult>();
  for (const [cgroupId, t] of tallies) {
    results.set(cgroupId, { opens: t.opens, errors: t.errors, topPaths: t.paths.entries() });
  }
  return results;
}
