// Every probe Loupe can load, by the name a TraceProfile uses.
import type { ProbeName } from '../../api/results.js';
import { biolatency } from '../../probes/biolatency/kernel.js';
import { exec } from '../../probes/exec/kernel.js';
import { files } from '../../probes/files/kernel.js';
import { netbytes } from '../../probes/netbytes/kernel.js';
import { oomkill } from '../../probes/oomkill/kernel.js';
import type { ProbeDefinition } from './probe.js';
import { createProfileProbe } from '../../probes/profile/kernel.js';
import { runqlat } from '../../probes/runqlat/kernel.js';
import { syscalls } from '../../probes/syscalls/kernel.js';
import { tcp } from '../../probes/tcp/kernel.js';

/** Samples at DEFAULT_PROFILE_FREQUENCY_HZ; see createProfileProbe for another rate. */
const profile = createProfileProbe();

export const probeCatalog = { exec, syscalls, files, tcp, runqlat, oomkill, biolatency, netbytes, profile } satisfies {
  [N in ProbeName]: ProbeDefinition<N>;
};
