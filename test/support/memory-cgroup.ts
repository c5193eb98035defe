// A cgroup v1 memory cgroup with a small limit, so an allocation in a pod is
// OOM-killed as a pod over its limit is: cgroup2 here has no memory
// controller enabled (the hybrid layout).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Under this process's own memory cgroup; the controller's mount comes from /proc/self/mountinfo. */
export class MemoryCgroup {
  readonly dir: string;

  constructor(limitBytes: number) {
    const mount = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .find((f) => f[f.indexOf('-') + 1] === 'cgroup' && (f[f.indexOf('-') + 3] ?? '').split(',').includes('memory'))?.[4];
    if (mount === undefined) throw new Error('no cgroup v1 memory controller mounted (see /proc/self/mountinfo)');
    const own = /^\d+:memory:(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/';
    this.dir = path.join(mount, own, `loupe-oom-${randomBytes(4).toString('hex')}`);
    mkdirSync(this.dir);
    writeFileSync(path.join(this.dir, 'memory.limit_in_bytes'), String(limitBytes));
  }

  remove(): void {
    rmdirSync(this.dir);
  }
}
