// `loupe trace` flags: node:util parseArgs for the shape, zod for the values,
// and one line that says what is wrong and how to fix it.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseDuration } from '../../api/duration.js';
import type { ProbeSpec } from '../../api/probes.js';
import { FilesOptionsSchema } from '../../probes/files/files.js';
import { SyscallsOptionsSchema } from '../../probes/syscalls/syscalls.js';
import { DEFAULT_PROFILE_FREQUENCY_HZ, MAX_PROFILE_FREQUENCY_HZ } from '../../probes/profile/kernel.js';
import { ProbeNameSchema } from '../../api/results.js';
import { MAX_TOP_N } from '../../api/top-list.js';
import { PROBE_NAMES } from '../../probes/registry.js';
import { parseContainerRef } from '../../engine/cgroup/container.js';
import { syscallsOptionsError } from '../../probes/syscalls/kernel.js';

export const TRACE_USAGE = `Usage: loupe trace [targets] [options]

Traces processes of cgroups, containers or pids with eBPF and prints what they
did: a live summary while it runs (on a terminal) and a report at the end.

Targets (repeatable, at least one):
  --cgroup PATH       a cgroup v2 directory, or its path as /proc/<pid>/cgroup shows it
  --container ID      a container id, bare or as pod status shows it (containerd://…)
  --pid PID           the cgroup a process is in

Options:
  --probes LIST       comma-separated: ${PROBE_NAMES.join(', ')} (default: all)
  --syscalls LIST     syscalls probe: only these syscalls, comma-separated (e.g. read,openat)
  --path-prefix P     files probe: only paths starting with P (repeatable, e.g. /etc)
  --profile-frequency HZ  profile probe: samples per second per CPU (default: ${DEFAULT_PROFILE_FREQUENCY_HZ})
  --duration D        stop after D (30s, 5m, 1h30m; default: until Ctrl-C)
  --interval D        refresh the live summary every D (default: 1s)
  --top N             entries in each top list (default: 10, at most ${MAX_TOP_N})
  --output FORMAT     text or json (default: text); json prints one document at the end
  --heatmap           draw a latency heat map of each latency probe, redrawn every
                      interval on a terminal (256 colours, or shades without them or
                      with NO_COLOR), and in the report at the end
  -h, --help          show this help

Needs root and a kernel with BTF. Logs go to stderr (LOUPE_LOG_LEVEL, default warn).
`;

/** Bad flags or values: the command prints the message on one line and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const durationMs = (flag: string) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text.trim());
    if (ms !== undefined) return ms;
    ctx.addIssue({
      code: 'custom',
      message: `--${flag}: invalid duration ${JSON.stringify(text)}: use a number and a unit (h, m, s, ms), e.g. 30s, 5m, 1h30m`,
    });
    return z.NEVER;
  });

const probeList = z.string().transform((text, ctx) => {
  const names = text.split(',').map((n) => n.trim()).filter((n) => n.length > 0);
  for (const name of names) {
    if (!ProbeNameSchema.safeParse(name).success) {
      ctx.addIssue({ code: 'custom', message: `unknown probe ${JSON.stringify(name)}: choose from ${PROBE_NAMES.join(', ')}` });
      return z.NEVER;
    }
  }
  if (names.length === 0) {
    ctx.addIssue({ code: 'custom', message: `--probes is empty: choose from ${PROBE_NAMES.join(', ')}` });
    return z.NEVER;
  }
  return [...new Set(names)] as z.infer<typeof ProbeNameSchema>[];
});

const containerRef = z.string().superRefine((ref, ctx) => {
  try {
    parseContainerRef(ref);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `--container ${JSON.stringify(ref)}: expected 64 hex digits, optionally prefixed with containerd://, cri-o:// or docker://`,
    });
  }
});

const positiveInt = (flag: string, max: number) =>
  z.string().transform((text, ctx) => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || n < 1 || n > max) {
      ctx.addIssue({ code: 'custom', message: `--${flag} ${JSON.stringify(text)}: expected a whole number from 1 to ${max}` });
      return z.NEVER;
    }
    return n;
  });

/** --syscalls: the syscalls probe's `only`, with the API's rules and this node's syscall table. */
const syscallList = z
  .string()
  .transform((text) => text.split(',').map((n) => n.trim()).filter((n) => n.length > 0))
  .pipe(SyscallsOptionsSchema.shape.only.unwrap())
  .superRefine((only, ctx) => {
    const error = syscallsOptionsError({ name: 'syscalls', only });
    if (error !== undefined) ctx.addIssue({ code: 'custom', message: `--syscalls: ${error}` });
  });

const TARGET_FLAGS = ['cgroup', 'container', 'pid'] as const;

/** One --cgroup, --container or --pid, in command-line order (the report keeps it). */
export const TraceTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('cgroup'), value: z.string().min(1, '--cgroup needs a path') }),
  z.object({ kind: z.literal('container'), value: containerRef }),
  z.object({ kind: z.literal('pid'), value: positiveInt('pid', 2 ** 22) }), // PID_MAX_LIMIT
]);
export type TraceTarget = z.output<typeof TraceTargetSchema>;

export const TraceOptionsSchema = z
  .object({
    targets: z.array(TraceTargetSchema),
    probes: probeList.default([...PROBE_NAMES]),
    syscalls: syscallList.optional(),
    pathPrefixes: FilesOptionsSchema.shape.pathPrefixes,
    profileFrequency: positiveInt('profile-frequency', MAX_PROFILE_FREQUENCY_HZ).optional(),
    duration: durationMs('duration')
      .refine((ms) => ms > 0, '--duration must be longer than 0 (leave it out to trace until Ctrl-C)')
      .optional(),
    interval: durationMs('interval')
      .refine((ms) => ms >= 100, '--interval must be at least 100ms')
      .default(1000),
    top: positiveInt('top', MAX_TOP_N).default(10),
    output: z.enum(['text', 'json'], { error: '--output must be text or json' }).default('text'),
    heatmap: z.boolean().optional(),
    help: z.boolean().default(false),
  })
  .refine((o) => o.help || o.targets.length > 0, {
    message: 'no target: give at least one --cgroup PATH, --container ID or --pid PID',
  })
  .refine((o) => o.syscalls === undefined || o.probes.includes('syscalls'), {
    message: '--syscalls filters the syscalls probe: add it to --probes',
  })
  .refine((o) => o.pathPrefixes === undefined || o.probes.includes('files'), {
    message: '--path-prefix filters the files probe: add it to --probes',
  })
  .refine((o) => o.profileFrequency === undefined || o.probes.includes('profile'), {
    message: '--profile-frequency sets the profile probe\'s rate: add it to --probes',
  })
  .refine((o) => o.heatmap !== true || o.output === 'text', {
    message: '--heatmap draws on text output: leave out --output json (its document has the timeline to draw from)',
  });
export type TraceOptions = z.output<typeof TraceOptionsSchema>;

/** Parses `loupe trace` arguments; throws UsageError with one line on anything wrong. */
export function parseTraceOptions(args: readonly string[]): TraceOptions {
  let input: Record<string, unknown>;
  try {
    const { values, tokens } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      tokens: true,
      options: {
        cgroup: { type: 'string', multiple: true },
        container: { type: 'string', multiple: true },
        pid: { type: 'string', multiple: true },
        probes: { type: 'string' },
        syscalls: { type: 'string' },
        'path-prefix': { type: 'string', multiple: true },
        'profile-frequency': { type: 'string' },
        duration: { type: 'string' },
        interval: { type: 'string' },
        top: { type: 'string' },
        output: { type: 'string' },
        heatmap: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const targets = tokens.flatMap((t) =>
      t.kind === 'option' && (TARGET_FLAGS as readonly string[]).includes(t.name) ? [{ kind: t.name, value: t.value }] : [],
    );
    const { probes, syscalls, 'path-prefix': pathPrefixes, 'profile-frequency': profileFrequency, duration, interval, top, output, heatmap, help } = values;
    // absent flags stay absent, so the options carry no undefined keys
    const given = Object.entries({ probes, syscalls, pathPrefixes, profileFrequency, duration, interval, top, output, heatmap, help }).filter(
      ([, v]) => v !== undefined,
    );
    input = { targets, ...Object.fromEntries(given) };
  } catch (err) {
    // parseArgs explains at length; its first sentence is the point.
    const first = (err as Error).message.split(/\.\s/)[0]!.replace(/\.$/, '');
    throw new UsageError(`${first.charAt(0).toLowerCase()}${first.slice(1)} (see loupe trace --help)`);
  }
  const parsed = TraceOptionsSchema.safeParse(input);
  if (!parsed.success) throw new UsageError(parsed.error.issues[0]!.message);
  return parsed.data;
}

/** The probes to load, with the options the flags gave them. */
export function traceProbeSpecs(options: TraceOptions): ProbeSpec[] {
  return options.probes.map((name): ProbeSpec => {
    if (name === 'syscalls' && options.syscalls !== undefined) return { name, only: options.syscalls };
    if (name === 'files' && options.pathPrefixes !== undefined) return { name, pathPrefixes: options.pathPrefixes };
    if (name === 'profile' && options.profileFrequency !== undefined) return { name, frequency: options.profileFrequency };
    return { name };
  });
}
