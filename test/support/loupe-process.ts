// A `loupe <command>` (operator, agent) run from the repo as a child process,
// as the cluster tests run Loupe: logs kept for failure messages, a bounded
// stop, and the BPF programs it holds.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { bpfHandlesOf, kernelPrograms } from './bpf-handles.js';

const repoRoot = join(import.meta.dirname, '..', '..');

/** A `loupe <command>` child process; the tail of its JSON logs is kept for failure messages. */
export class LoupeProcess {
  readonly child: ChildProcess;
  log = '';
  exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;

  constructor(readonly name: string, args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'cli', 'loupe.ts'), ...args], {
      cwd: repoRoot,
      // Logs are on stderr; stdout too, in case a command prints there.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOUPE_LOG_LEVEL: 'info' },
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.on('data', (chunk: Buffer) => (this.log = (this.log + chunk.toString()).slice(-20_000)));
    }
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** SIGTERM, and SIGKILL if it has not exited 15 s later, so cleanup cannot hang. */
  async stop(): Promise<void> {
    if (this.exitStatus !== undefined) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Names of the BPF programs this process holds. */
  programs(): string[] {
    const ids = new Set(bpfHandlesOf(this.pid).progIds);
    return kernelPrograms().filter((p) => ids.has(p.id)).map((p) => p.name).sort();
  }
}
