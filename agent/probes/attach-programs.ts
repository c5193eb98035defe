// Attaches a probe's programs by name, all or nothing: if one fails, the
// links made so far are destroyed before the error goes up.
import { BpfError, type BpfLink, type BpfObject } from '../../native/index.js';

/**
 * `optional` programs are skipped when their attach point does not exist on
 * this kernel (ENOENT), e.g. the open(2) tracepoints, which arm64 lacks.
 */
export function attachPrograms(
  obj: BpfObject,
  required: readonly string[],
  optional: readonly string[] = [],
): BpfLink[] {
  const links: BpfLink[] = [];
  try {
    for (const name of required) links.push(obj.program(name).attach());
    for (const name of optional) {
      try {
        links.push(obj.program(name).attach());
      } catch (err) {
        if (!(err instanceof BpfError && err.code === 'ENOENT')) throw err;
      }
    }
  } catch (err) {
    for (const link of links) link.destroy();
    throw err;
  }
  return links;
}
