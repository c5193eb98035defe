// Tracefs in kernel tests. A fresh machine has neither tracefs nor debugfs
// mounted; these helpers see which are mounted, undo what a test mounted, and
// run a child process in a private mount namespace where neither is, so a
// test shows what a fresh machine does whatever this one has mounted.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TRACING_FILESYSTEMS = new Set(['tracefs', 'debugfs']);

/** Mount points of tracefs and debugfs in this process's mount namespace. */
export function tracingMounts(): string[] {
  const mounts: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [mount, filesystem] = line.split(' - ');
    if (TRACING_FILESYSTEMS.has(filesystem?.split(' ')[0] ?? '')) mounts.push(mount?.split(' ')[4] ?? '');
  }
  return mounts;
}

/** Unmounts the tracing mounts that appeared since `before` (what a test mounted), newest first. */
export function unmountTracingMountsSince(before: readonly string[]): void {
  for (const mountPoint of tracingMounts().filter((m) => !before.includes(m)).reverse()) {
    execFileSync('umount', [mountPoint]);
  }
}

export interface ChildOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface IsolatedChildOptions {
  /** Shell run in the namespace before node, e.g. to hide /sys/kernel/btf. */
  prepare?: string;
  /** Goes before node, e.g. setpriv to drop a capability. */
  wrapper?: readonly string[];
}

/**
 * Runs `node --import tsx <script> ...args` in a new private mount namespace
 * after unmounting tracefs and debugfs there, as on a fresh machine.
 */
export function runWithoutTracefs(script: string, args: readonly string[] = [], options: IsolatedChildOptions = {}): Promise<ChildOutcome> {
  const unmountAll =
    'for m in /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug; do ' +
    'while mountpoint -q "$m"; do umount -l "$m" || exit 1; done; done; ' +
    `${options.prepare ?? ':'} || exit 1; exec "$@"`;
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      unmountAll,
      'sh',
      ...(options.wrapper ?? []),
      process.execPath,
      '--import',
      'tsx',
      script,
      ...args,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
