// Cgroup ids on the real cgroup2 hierarchy: a process moved into a
// kubelet-shaped container cgroup resolves to the same id by pid, by
// container id (with and without the pod uid) and by path.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cgroupIdForPath, cgroupIdForPid, cgroupPathForPid } from '../../engine/cgroup/cgroup-id.js';
import { cgroupIdForContainer } from '../../engine/cgroup/container.js';
import { findCgroup2Mount } from '../../engine/cgroup/mount.js';
import { requireKernel } from '../support/privileged.js';
import { LocalPod, type Qos } from '../../hack/local-cluster/local-pod.js';

describe('cgroup ids on the real cgroup2 hierarchy', () => {
  it('finds the cgroup2 mount from /proc/self/mountinfo', (t) => {
    if (!requireKernel(t)) return;
    const mount = findCgroup2Mount();
    assert.equal(statSync(path.join(mount.mountPoint, 'cgroup.procs')).isFile(), true);
  });

  for (const qos of ['burstable', 'besteffort', 'guaranteed'] satisfies Qos[]) {
    it(`${qos} pod: pid, container id and path agree on the directory inode`, async (t) => {
      if (!requireKernel(t)) return;
      const pod = new LocalPod(qos);
      const sleeper = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
      try {
        writeFileSync(path.join(pod.dir, 'cgroup.procs'), String(sleeper.pid));
        const mount = findCgroup2Mount();
        assert.equal(cgroupPathForPid(sleeper.pid!), pod.dir.slice(mount.mountPoint.length));
        assert.equal(cgroupIdForPid(sleeper.pid!), pod.cgroupId);
        assert.equal(cgroupIdForContainer(pod.containerRef, pod.podUid), pod.cgroupId);
        assert.equal(cgroupIdForContainer(pod.containerId), pod.cgroupId);
        assert.equal(cgroupIdForPath(pod.dir), pod.cgroupId);
        assert.equal(cgroupIdForPath(pod.dir.slice(mount.mountPoint.length)), pod.cgroupId);
        assert.notEqual(cgroupIdForPid(process.pid), pod.cgroupId);
      } finally {
        sleeper.kill('SIGKILL');
        await new Promise((resolve) => sleeper.once('exit', resolve));
        pod.remove();
      }
    });
  }

  it('says which pid does not exist', (t) => {
    if (!requireKernel(t)) return;
    assert.throws(() => cgroupIdForPid(4194303), { message: 'pid 4194303 does not exist (no /proc/4194303/cgroup)' });
  });
});
