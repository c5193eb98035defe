// Why a probe could not be loaded or attached, in words an operator can act
// on: the cause (no BTF, a hook this kernel lacks, a missing privilege, no
// tracefs, a verifier rejection) and the fix, ahead of libbpf's own message.
// Only a real verifier rejection mentions the verifier.
import { existsSync } from 'node:fs';
import { BpfError, TracefsUnavailableError } from '../native/index.js';
import type { ProbeName } from '../probes/registry.js';

export const KERNEL_BTF_PATH = '/sys/kernel/btf/vmlinux';
/**
 * Verifier logs run to megabytes; the reason is at the end, on the last lines
 * before the statistics, after the instructions that led to it.
 */
const VERIFIER_LOG_EXCERPT_LINES = 12;
const VERIFIER_LOG_EXCERPT_CHARS = 2000;
/** The statistics the verifier ends its log with, and blank lines: nothing to act on. */
const VERIFIER_STATISTICS = /^(processed \d+ insns|verification time|stack depth|$)/;

export interface ProbeFailure {
  probe: ProbeName;
  /** Cause and fix first, then the error they were read from. */
  message: string;
  /** The program the verifier rejected, with verifierLog. */
  program?: string;
  /** The last useful lines of that program's verifier log, only when the verifier rejected a program. */
  verifierLog?: string;
}

interface Explanation {
  cause: string;
  fix: string;
}

/** The kernel hook an error names: a libbpf section, a tracepoint, or a BTF type it looked for. */
function hookOf(message: string): string | undefined {
  return (
    /section '([^']+)'/.exec(message)?.[1] ??
    /tracepoint (\S+?):? /.exec(message)?.[1] ??
    /kernel BTF type ID of '([^']+)'/.exec(message)?.[1]
  );
}

function explain(err: unknown, btfPath: string): Explanation | undefined {
  if (err instanceof TracefsUnavailableError) return undefined; // its message is cause and fix already
  if (!(err instanceof BpfError)) return undefined;
  if (err.verifierLog !== undefined) {
    return {
      cause: 'the kernel\'s verifier rejected a program of this probe on this kernel',
      fix: 'this is a Loupe bug for this kernel version: report it with the agent\'s log (it holds the verifier log); other probes are unaffected',
    };
  }
  if (!existsSync(btfPath)) {
    return {
      cause: `the kernel has no BTF (${btfPath} is missing), which every Loupe probe needs`,
      fix: 'run nodes on a kernel built with CONFIG_DEBUG_INFO_BTF=y (the default of current distributions), and mount the host\'s /sys/kernel/btf into the agent',
    };
  }
  const hook = hookOf(err.message);
  if (err.code === 'ENOENT' || err.code === 'ESRCH') {
    return {
      cause: `this kernel has no hook ${hook ?? '(see below)'}: it is older than the probe needs, or built without it`,
      fix: 'drop this probe from profiles that run on this node\'s kernel; the other probes keep working',
    };
  }
  if (err.code === 'EPERM' || err.code === 'EACCES') {
    return {
      cause: 'the agent lacks a privilege the kernel asks for',
      fix: 'grant the agent CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (CAP_SYS_ADMIN alone before kernel 5.8) and check that kernel lockdown does not forbid BPF',
    };
  }
  return undefined;
}

/** A probe's load or attach error as its NodeTracePlan condition and `loupe trace` show it. */
export function probeFailure(probe: ProbeName, err: unknown, btfPath = KERNEL_BTF_PATH): ProbeFailure {
  const detail = err instanceof Error ? err.message : String(err);
  const explanation = explain(err, btfPath);
  const failure: ProbeFailure = {
    probe,
    message: explanation === undefined ? detail : `${explanation.cause}. Fix: ${explanation.fix}. (${detail})`,
  };
  if (err instanceof BpfError && err.verifierLog !== undefined) {
    if (err.program !== undefined) failure.program = err.program;
    failure.verifierLog = verifierLogExcerpt(err.verifierLog);
  }
  return failure;
}

/** The last lines before the verifier's statistics: the reason, and the instructions that led to it. */
export function verifierLogExcerpt(log: string): string {
  const lines = log.split('\n');
  let end = lines.length;
  while (end > 0 && VERIFIER_STATISTICS.test(lines[end - 1]?.trim() ?? '')) end--;
  if (end === 0) end = lines.length; // nothing but statistics: keep them
  const excerpt = lines.slice(Math.max(0, end - VERIFIER_LOG_EXCERPT_LINES), end).join('\n');
  return excerpt.length <= VERIFIER_LOG_EXCERPT_CHARS ? excerpt : excerpt.slice(-VERIFIER_LOG_EXCERPT_CHARS);
}
