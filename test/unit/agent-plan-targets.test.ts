import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cgroupIdForContainer } from '../../engine/cgroup/container.js';
import { resolvePlanTargets, retryUnresolved, targetCgroupIds, type ContainerResolver } from '../../agent/plan-targets.js';
import type { NodeTraceTarget } from '../../api/nodetraceplan.js';

// A directory shaped like kubelet's systemd cgroup tree; the resolver only looks at paths and inodes.
const root = mkdtempSync(path.join(tmpdir(), 'loupe-plan-targets-'));
after(() => rmSync(root, { recursive: true, force: true }));
const mount = { mountPoint: root } as Parameters<typeof cgroupIdForContainer>[2];
const resolve: ContainerResolver = (containerId, podUid) => cgroupIdForContainer(containerId, podUid, mount);

function container(start: boolean): { target: NodeTraceTarget; dir: string } {
  const podUid = randomUUID();
  const id = randomBytes(32).toString('hex');
  const dir = path.join(
    root,
    'kubepods.slice/kubepods-burstable.slice',
    `kubepods-burstable-pod${podUid.replaceAll('-', '_')}.slice`,
    `cri-containerd-${id}.scope`,
  );
  if (start) mkdirSync(dir, { recursive: true });
  return { target: { podUid, namespace: 'shop', pod: `pod-${id.slice(0, 5)}`, container: 'app', containerId: `containerd://${id}` }, dir };
}

describe('resolvePlanTargets', () => {
  it('finds running containers’ cgroups and says why the others were not found', () => {
    const running = container(true);
    const notStarted = container(false);
    const malformed: NodeTraceTarget = { ...running.target, containerId: 'containerd://not-hex' };
    const resolution = resolvePlanTargets([running.target, notStarted.target, malformed], resolve);
    assert.deepEqual(resolution.resolved, [{ target: running.target, cgroupId: statSync(running.dir, { bigint: true }).ino }]);
    assert.deepEqual(resolution.unresolved.map((u) => u.target), [notStarted.target, malformed]);
    assert.match(resolution.unresolved[0]!.reason, /^no container [0-9a-f]{64} of pod /);
    assert.match(resolution.unresolved[1]!.reason, /is not a container id/);
    assert.ok(resolution.unresolved.every((u) => u.reason.length <= 256));
  });

  it('finds a container later once its cgroup appears, keeping what was resolved', () => {
    const early = container(true);
    const late = container(false);
    const first = resolvePlanTargets([early.target, late.target], resolve);
    assert.equal(first.unresolved.length, 1);
    assert.equal(retryUnresolved(first, resolve).unresolved.length, 1, 'still not there');
    mkdirSync(late.dir, { recursive: true });
    const second = retryUnresolved(first, resolve);
    assert.deepEqual(second.resolved.map((r) => r.target), [early.target, late.target]);
    assert.deepEqual(second.unresolved, []);
  });

  it('filters on each cgroup once, in a stable order', () => {
    const a = container(true);
    const resolution = resolvePlanTargets([a.target, { ...a.target, container: 'same-cgroup' }], resolve);
    assert.deepEqual(targetCgroupIds(resolution), [statSync(a.dir, { bigint: true }).ino]);
  });
});
