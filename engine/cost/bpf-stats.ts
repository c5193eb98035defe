// The kernel counts BPF program run time only while someone asks it to: an
// enableStats() fd (BPF_ENABLE_STATS, needs CAP_SYS_ADMIN) held for as long
// as the agent runs, or the host's kernel.bpf_stats_enabled sysctl. Without
// either, CPU cost is reported as unmeasured, with the reason, never as 0.
import { readFileSync } from 'node:fs';
import { enableStats } from '../../native/index.js';

export const BPF_STATS_SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';

/** Whether program run time is counted (`via` says how, for the log), and if not, why. */
export type BpfStats =
  | { measured: true; via: 'enableStats' | 'sysctl'; close(): void }
  | { measured: false; reason: string; close(): void };

export interface BpfStatsSources {
  enable: () => { close(): void };
  readSysctl: () => string;
}

const defaultSources: BpfStatsSources = {
  enable: enableStats,
  readSysctl: () => readFileSync(BPF_STATS_SYSCTL, 'utf8'),
};

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Turns BPF run-time statistics on for the agent's lifetime; close() turns them off again (if we turned them on). */
export function turnOnBpfStats(sources: BpfStatsSources = defaultSources): BpfStats {
  let enableError: string;
  try {
    const handle = sources.enable();
    return { measured: true, via: 'enableStats', close: () => handle.close() };
  } catch (err) {
    enableError = messageOf(err);
  }
  let sysctl: string;
  try {
    sysctl = sources.readSysctl().trim();
  } catch (err) {
    sysctl = `unreadable (${messageOf(err)})`;
  }
  if (sysctl === '1') return { measured: true, via: 'sysctl', close: () => {} };
  return {
    measured: false,
    reason: `BPF run-time statistics are off: BPF_ENABLE_STATS failed (${enableError}) and kernel.bpf_stats_enabled is ${sysctl}`,
    close: () => {},
  };
}
