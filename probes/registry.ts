// Every probe Loupe has, in the order results are shown: adding a probe is
// its folder (probes/<name>/) and one line here.
import type { z } from 'zod';
import type { ProbeDescriptor } from './probe-descriptor.js';
import { biolatency } from './biolatency/biolatency.js';
import { dns } from './dns/dns.js';
import { exec } from './exec/exec.js';
import { files } from './files/files.js';
import { http } from './http/http.js';
import { netbytes } from './netbytes/netbytes.js';
import { oomkill } from './oomkill/oomkill.js';
import { profile } from './profile/profile.js';
import { runqlat } from './runqlat/runqlat.js';
import { syscalls } from './syscalls/syscalls.js';
import { tcp } from './tcp/tcp.js';
import { tls } from './tls/tls.js';

export const PROBES = [
  exec,
  syscalls,
  files,
  tcp,
  runqlat,
  oomkill,
  biolatency,
  netbytes,
  dns,
  profile,
  http,
  tls,
] as const;

type Probe = (typeof PROBES)[number];
export type ProbeName = Probe['name'];
type DescriptorOf<N extends ProbeName> = Extract<Probe, { name: N }>;

/** What a probe reports (exec → ExecResult, …). */
export type ResultOf<N extends ProbeName> = z.output<DescriptorOf<N>['result']>;
/** The options one profile gave probe N, e.g. `{name: 'files', pathPrefixes: ['/etc']}`. */
export type OptionsOf<N extends ProbeName> = z.output<DescriptorOf<N>['options']>;

export const PROBE_NAMES = PROBES.map((p) => p.name) as ProbeName[];

const byName = new Map<string, Probe>(PROBES.map((p) => [p.name, p]));

/** Probe N's descriptor, typed by its name. */
export function descriptorOf<N extends ProbeName>(name: N): ProbeDescriptor<N, DescriptorOf<N>['options'], DescriptorOf<N>['result']> {
  const descriptor = byName.get(name);
  if (descriptor === undefined) throw new Error(`no probe named ${name}`);
  return descriptor as unknown as ProbeDescriptor<N, DescriptorOf<N>['options'], DescriptorOf<N>['result']>;
}
