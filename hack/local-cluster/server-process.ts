// A server process on this machine (etcd, kube-apiserver, otelcol, a real
// node's kubelet): output goes to a log file whose tail explains a failed
// start, and stop() returns only once the process is gone, so neither the
// demo nor a test leaves a server behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** The exit code (or signal name), or undefined while the process runs. */
  exitStatus(): string | undefined;
  /** The last lines of the process's output, for error messages. */
  logTail(lines?: number): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

// If the process that started them dies without calling stop(), its servers must not outlive it.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function startServerProcess(name: string, binary: string, args: string[], logFile: string): ServerProcess {
  const log = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    // Its own process group: Ctrl-C in a terminal (or `timeout`, which signals
    // its whole group) reaches the test or demo alone, which then stops the
    // servers last, after whatever still talks to them.
    child = spawn(binary, args, { detached: true, stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  running.add(child);
  let status: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      status = signal ?? String(code);
      resolve();
    });
    child.once('error', (err) => {
      running.delete(child);
      status = `spawn failed: ${err.message}`;
      resolve();
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${binary}`);

  const logTail = (lines = 30) => {
    const text = readFileSync(logFile, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  };

  const stop = async (graceMs = 10_000) => {
    if (status !== undefined) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(killer);
  };

  return { name, pid, logFile, exitStatus: () => status, logTail, stop };
}
