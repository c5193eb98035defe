// `loupe trace` as a real process, started the way a user starts it, for
// tests that need it attached before their workload runs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRACING_LINE } from '../../cli/trace-command.js';
import { bpfHandlesOf, type BpfHandles } from './bpf-handles.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface TraceRun {
  pid: number;
  /** What the process held once attached. */
  held: BpfHandles;
  signal(name: NodeJS.Signals): void;
  exited: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

const ATTACH_TIMEOUT_MS = 60_000;

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
  // 'close' comes after both the exit and the end of the pipes
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  // Attached once it says so on stderr (TRACING_LINE); an exit first means it never will be.
  const attached = await new Promise<boolean>((resolve) => {
    const timeout = setTimeout(() => resolve(false), ATTACH_TIMEOUT_MS);
    child.stderr.on('data', () => {
      if (stderr.includes(TRACING_LINE)) clearTimeout(timeout), resolve(true);
    });
    child.on('exit', () => (clearTimeout(timeout), resolve(stderr.includes(TRACING_LINE))));
  });
  if (!attached && child.exitCode === null) {
    child.kill('SIGKILL');
    throw new Error(`loupe trace attached nothing in ${ATTACH_TIMEOUT_MS / 1000}s; stderr: ${stderr}`);
  }
  let held: BpfHandles = { progIds: [], linkIds: [] };
  try {
    held = bpfHandlesOf(child.pid!);
  } catch {
    // it has exited: its exit status and stderr say why
  }
  return { pid: child.pid!, held, signal: (s) => child.kill(s), exited };
}

