// `loupe trace` as a real process, started the way a user starts it, for
// tests that need it attached before their workload runs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { bpfHandlesOf, type BpfHandles } from './bpf-handles.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface TraceRun {
  pid: number;
  /** What the process held once attached. */
  held: BpfHandles;
  signal(name: NodeJS.Signals): void;
  exited: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts `loupe trace args` and resolves once its programs are attached (or it has exited). */
export async function startTrace(args: string[], env: NodeJS.ProcessEnv = {}): Promise<TraceRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/loupe.ts', 'trace', ...args], {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  let done = false;
  child.on('exit', () => (done = true));
  // 'close' comes after both the exit and the end of the pipes
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  // attached = holding links, and no new ones for a while (probes load one after another)
  let held: BpfHandles = { progIds: [], linkIds: [] };
  let stableSince = Date.now();
  for (const start = Date.now(); !done && (held.linkIds.length === 0 || Date.now() - stableSince < 500); ) {
    if (Date.now() - start > 20_000) {
      child.kill('SIGKILL');
      throw new Error(`loupe trace attached nothing in 20s; stderr: ${stderr}`);
    }
    await sleep(50);
    try {
      const now = bpfHandlesOf(child.pid!);
      if (now.linkIds.length !== held.linkIds.length) stableSince = Date.now();
      held = now;
    } catch {
      // exited between checks
    }
  }
  return { pid: child.pid!, held, signal: (s) => child.kill(s), exited };
}

