// Where the compiled probe objects (bpf/build/*.bpf.o) are: LOUPE_BPF_DIR, or
// bpf/build above this module, which works both from the sources (tsx) and
// from dist/.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BpfObject } from '../native/index.js';
import type { ProbeDefinition } from './probes/probe.js';

export function probeObjectDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LOUPE_BPF_DIR) return env.LOUPE_BPF_DIR;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'bpf', 'build');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error('no bpf/build directory above the agent: build the probes (make -C bpf) or set LOUPE_BPF_DIR');
    }
    dir = parent;
  }
}

/** An opener for ProbeManager: BpfObject.open on the definition's object file. */
export function probeObjectOpener(open: (file: string) => BpfObject, dir = probeObjectDirectory()) {
  return (definition: ProbeDefinition): BpfObject => {
    const file = path.join(dir, definition.objectFile);
    if (!existsSync(file)) throw new Error(`probe object ${file} is missing: build the probes (make -C bpf)`);
    return open(file);
  };
}
