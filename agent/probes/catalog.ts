// Every probe Loupe can load, by the name a TraceProfile uses.
import type { ProbeName } from '../../api/results.js';
import { biolatency } from './biolatency.js';
import { exec } from './exec.js';
import { files } from './files.js';
import { netbytes } from './netbytes.js';
import { oomkill } from './oomkill.js';
import type { ProbeDefinition } from './probe.js';
import { createProfileProbe } from './profile.js';
import { runqlat } from './runqlat.js';
import { syscalls } from './syscalls.js';
import { tcp } from './tcp.js';

/** Samples at DEFAULT_PROFILE_FREQUENCY_HZ; see createProfileProbe for another rate. */
const profile = createProfileProbe();

export const probeCatalog = { exec, syscalls, files, tcp, runqlat, oomkill, biolatency, netbytes, profile } satisfies {
  [N in ProbeName]: ProbeDefinition<N>;
};
