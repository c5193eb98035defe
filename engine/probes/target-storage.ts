// The fast path of the in-kernel filter for probes on the hottest hooks
// (LOUPE_TARGET_STORAGE in bpf/loupe.h): each targets entry is copied into
// the cgroup's own BPF storage, so an untraced task costs its programs one
// load instead of a hash lookup. Kernels without cgroup storage (< 6.2) keep
// the hash alone. The targets map stays the source of truth for readers.
import { findCgroup2Mount } from '../cgroup/mount.js';
import { canOpenCgroupById, mapTypeSupported, type BpfObject } from '../../native/index.js';

/** The cgrp_storage map and its switch in bpf/loupe.h. */
export const TARGET_STORAGE_MAP = 'target_storage';
const USE_TARGET_STORAGE = 'use_target_storage';

export interface TargetStorageOptions {
  /**
   * false: the targets hash alone, even where cgroup storage would work (tests,
   * comparisons). Default: where the kernel has cgroup storage and the agent
   * may open cgroups by id (CAP_DAC_READ_SEARCH).
   */
  targetStorage?: boolean;
}

/** Objects that use cgroup storage → the cgroup2 mount their targets are opened under. */
const mountPoints = new WeakMap<BpfObject, string>();

/** Called before load: turns cgroup storage on where the kernel has it, else leaves the map uncreated. */
export function configureTargetStorage(obj: BpfObject, options: TargetStorageOptions): void {
  const mountPoint = options.targetStorage === false ? undefined : findCgroup2Mount().mountPoint;
  const enabled = mountPoint !== undefined && (options.targetStorage ?? (mapTypeSupported('cgrp_storage') && canOpenCgroupById(mountPoint)));
  obj.setRodata(USE_TARGET_STORAGE, enabled);
  if (!enabled) {
    obj.setAutocreate(TARGET_STORAGE_MAP, false);
    return;
  }
  mountPoints.set(obj, mountPoint);
}

/** Whether the loaded object reads its targets from cgroup storage. */
export function usesTargetStorage(obj: BpfObject): boolean {
  return mountPoints.has(obj);
}

/**
 * ProbeDefinition.syncTarget for these probes: copies a targets entry (struct
 * loupe_target) into the cgroup's storage, or deletes it (undefined). A
 * cgroup that no longer exists has no storage and nothing to trace: skipped.
 */
export function syncTargetStorage(obj: BpfObject, cgroupId: bigint, value: Buffer | undefined): void {
  const mountPoint = mountPoints.get(obj);
  if (mountPoint === undefined) return;
  const map = obj.map(TARGET_STORAGE_MAP);
  if (value === undefined) map.deleteCgroupStorage(mountPoint, cgroupId);
  else map.updateCgroupStorage(mountPoint, cgroupId, value);
}
