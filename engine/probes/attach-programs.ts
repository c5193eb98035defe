// Attaches a probe's programs by name, all or nothing: if one fails, the
// links made so far are destroyed before the error goes up.
import type { BpfLink, BpfObject } from '../../native/index.js';

export function attachPrograms(obj: BpfObject, names: readonly string[]): BpfLink[] {
  const links: BpfLink[] = [];
  try {
    for (const name of names) links.push(obj.program(name).attach());
  } catch (err) {
    for (const link of links) link.destroy();
    throw err;
  }
  return links;
}
