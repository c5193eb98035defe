// `loupe <args>` as a real process, the way a user runs it from the repo.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface LoupeExit {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `loupe args` to its end; resolves with its status and output. */
export function runLoupe(args: readonly string[]): Promise<LoupeExit> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/loupe.ts', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}
