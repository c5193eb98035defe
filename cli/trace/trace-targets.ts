// `loupe trace` targets (--cgroup, --container, --pid) → cgroup ids, each with
// the label the report shows.
import { cgroupIdForPath, cgroupIdForPid } from '../../engine/cgroup/cgroup-id.js';
import { cgroupIdForContainer, parseContainerRef } from '../../engine/cgroup/container.js';
import type { Cgroup2Mount } from '../../engine/cgroup/mount.js';
import type { ReportTarget } from './report.js';
import type { TraceTarget } from './trace-options.js';

function resolveTraceTarget(target: TraceTarget, mount: Cgroup2Mount): ReportTarget {
  switch (target.kind) {
    case 'cgroup':
      return { label: `cgroup ${target.value}`, cgroupId: cgroupIdForPath(target.value, mount) };
    case 'container':
      return {
        label: `container ${parseContainerRef(target.value).id.slice(0, 12)}`,
        cgroupId: cgroupIdForContainer(target.value, undefined, mount),
      };
    case 'pid':
      return { label: `pid ${target.value}`, cgroupId: cgroupIdForPid(target.value, mount) };
  }
}

/** In command-line order; throws CgroupNotFoundError, naming the target, for the first that does not resolve. */
export function resolveTraceTargets(targets: readonly TraceTarget[], mount: Cgroup2Mount): ReportTarget[] {
  return targets.map((t) => resolveTraceTarget(t, mount));
}
