// The probe catalog as users ask for it: `probes: [{name: files, pathPrefixes: [/etc]}]`.
// One variant per probe, discriminated by name; a new probe is one more
// variant here (and in results.ts). The CRD post-pass turns the union into a
// single object whose options are only allowed beside their probe's name.
import { z } from 'zod';
import { withCelRules } from './cel.js';
import { PROBE_NAMES } from './results.js';
import { KNOWN_SYSCALL_NAMES } from '../probes/syscalls/syscall-names.js';

/** A probe's options: only its own, so an option under the wrong probe is an error, not silently ignored. */
function probeOptions<N extends string, O extends z.ZodRawShape>(name: N, options: O) {
  return z.strictObject(
    { name: z.literal(name), ...options },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys' ? `${issue.keys.join(', ')}: not an option of the ${name} probe; remove it` : undefined,
    },
  );
}

export const ExecProbeSpecSchema = probeOptions('exec', {}).describe('Process executions (execve, execveat) and exits.');

export const SyscallsProbeSpecSchema = probeOptions('syscalls', {
    only: z
      .array(
        z.enum(KNOWN_SYSCALL_NAMES, {
          error: (issue) => `unknown syscall ${JSON.stringify(issue.input)}; names are Linux's on x86_64 or arm64, e.g. openat`,
        }),
      )
      .min(1)
      .max(64)
      .optional()
      .describe(
        'Trace only these syscalls, by name (e.g. read, openat); all syscalls when omitted. A name of x86_64 or arm64 ' +
          'Linux; a node whose architecture lacks it (open on arm64) reports it in the NodeTracePlan.',
      ),
  })
  .describe('Syscall counts, errors and latency.');

export const FilesProbeSpecSchema = probeOptions('files', {
    pathPrefixes: z
      .array(z.string().max(256).regex(/^\//, { error: 'path prefixes are absolute paths, e.g. /etc' }))
      .min(1)
      .max(16)
      .optional()
      .describe('Count only opens of paths starting with one of these prefixes; all paths when omitted.'),
  })
  .describe('File opens and their failures, by path.');

export const TcpProbeSpecSchema = probeOptions('tcp', {}).describe('TCP connects, accepts, failures, bytes, retransmits and connection lifetimes.');

export const RunqlatProbeSpecSchema = probeOptions('runqlat', {}).describe('Run-queue latency: how long runnable threads wait for a CPU.');

export const OomkillProbeSpecSchema = probeOptions('oomkill', {}).describe('Processes killed by the kernel OOM killer.');

export const BiolatencyProbeSpecSchema = probeOptions('biolatency', {}).describe('Block I/O latency, bytes and errors, by device.');

export const NetbytesProbeSpecSchema = probeOptions('netbytes', {}).describe('IP bytes and packets sent and received, by protocol.');

export const ProfileProbeSpecSchema = probeOptions('profile', {
    // No schema default: the CRD merges the variants into one object, where a
    // default would land on every probe and fail its "only beside profile" rule.
    frequency: z
      .number()
      .int()
      .min(1)
      .max(999)
      .optional()
      .describe(
        'Stack samples per second on each CPU, 19 when omitted. The probe is loaded once per node and shared by ' +
          'every profile there, so they all sample at one rate.',
      ),
  })
  .describe('On-CPU stack sampling: hottest functions and stacks; full profiles as pprof from the node agent.');

export const ProbeSpecSchema = z.discriminatedUnion(
  'name',
  [
    ExecProbeSpecSchema,
    SyscallsProbeSpecSchema,
    FilesProbeSpecSchema,
    TcpProbeSpecSchema,
    RunqlatProbeSpecSchema,
    OomkillProbeSpecSchema,
    BiolatencyProbeSpecSchema,
    NetbytesProbeSpecSchema,
    ProfileProbeSpecSchema,
  ],
  { error: `probe name must be one of ${PROBE_NAMES.join(', ')}` },
);
export type ProbeSpec = z.infer<typeof ProbeSpecSchema>;

/** A profile may ask for every probe, once each. */
export const MAX_PROBES = PROBE_NAMES.length;

export const ProbeSpecListSchema = withCelRules(
  z
    .array(ProbeSpecSchema)
    .min(1, { error: 'probes must list at least one probe, e.g. [{name: exec}]' })
    .max(MAX_PROBES)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }),
  {
    rule: 'self.all(p, self.exists_one(q, q.name == p.name))',
    message: 'probes must not name the same probe twice; merge the duplicate entries',
    holds: (probes) => new Set(probes.map((p) => p.name)).size === probes.length,
  },
);
