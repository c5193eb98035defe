// A pod on this machine without a container runtime: its container is a real
// cgroup2 directory at the path kubelet's systemd driver gives it, with real
// processes moved into it, so an agent resolves and traces it as on a node.
// Used by the demo and the kernel and cluster tests; unique names, so
// concurrent runs do not collide.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { directoryInode } from '../../engine/cgroup/cgroup-id.js';
import { findCgroup2Mount } from '../../engine/cgroup/mount.js';

export type Qos = 'burstable' | 'besteffort' | 'guaranteed';

export class LocalPod {
  readonly containerId = randomBytes(32).toString('hex');
  readonly dir: string;
  readonly cgroupId: bigint;

  constructor(
    readonly qos: Qos = 'burstable',
    readonly mountPoint = findCgroup2Mount().mountPoint,
    /** The Pod object's uid when there is one: kubelet names the pod's cgroup after it. */
    readonly podUid: string = randomUUID(),
  ) {
    const uid = this.podUid.replaceAll('-', '_');
    const levels =
      qos === 'guaranteed'
        ? ['kubepods.slice', `kubepods-pod${uid}.slice`]
        : ['kubepods.slice', `kubepods-${qos}.slice`, `kubepods-${qos}-pod${uid}.slice`];
    this.dir = path.join(mountPoint, ...levels, `cri-containerd-${this.containerId}.scope`);
    mkdirSync(this.dir, { recursive: true });
    this.cgroupId = directoryInode(this.dir);
  }

  /** `containerd://<id>`, as pod status shows it. */
  get containerRef(): string {
    return `containerd://${this.containerId}`;
  }

  /**
   * Runs a shell script inside this pod's cgroup (the shell moves itself in
   * before running it) and resolves with its exit status. `[`, `echo` and
   * arithmetic are shell builtins, so the only execs are the script's own.
   */
  run(script: string): Promise<number> {
    const child = spawn('/bin/sh', ['-c', `echo $$ > '${this.dir}/cgroup.procs' && { ${script}; }`], { stdio: 'inherit' });
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => (signal ? reject(new Error(`sh killed by ${signal}`)) : resolve(code ?? -1)));
    });
  }

  /** Runs argv inside the pod: a shell moves itself in, then execs argv. Resolves with stdout. */
  exec(argv: readonly string[], onStdout?: (chunk: string) => void): Promise<string> {
    const child = spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', this.dir, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      onStdout?.(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (code === 0) resolve(stdout);
        else reject(new Error(`${argv.join(' ')} in ${this.dir} exited with ${code ?? signal}: ${stderr}`));
      });
    });
  }

  /** Runs `command` n times in this pod. */
  async execTimes(n: number, command = '/bin/true'): Promise<void> {
    const status = await this.run(`i=0; while [ $i -lt ${n} ]; do ${command}; i=$((i+1)); done`);
    if (status !== 0) throw new Error(`exec loop in ${this.dir} exited with ${status}`);
  }

  /** Kills every process in the pod (cgroup.kill, kernel >= 5.14) and waits until none is left. */
  async killAll(timeoutMs = 5000): Promise<void> {
    writeFileSync(path.join(this.dir, 'cgroup.kill'), '1');
    const deadline = Date.now() + timeoutMs;
    while (readFileSync(path.join(this.dir, 'cgroup.procs'), 'utf8').trim() !== '') {
      if (Date.now() > deadline) throw new Error(`processes in ${this.dir} survived cgroup.kill for ${timeoutMs}ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Removes the pod's directories, and the kubepods parents once no pod is left in them. */
  remove(): void {
    for (let dir = this.dir; dir !== this.mountPoint; dir = path.dirname(dir)) {
      try {
        rmdirSync(dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EBUSY') return; // another pod (or test run) still uses it
        if (code !== 'ENOENT') throw err;
      }
    }
  }
}
