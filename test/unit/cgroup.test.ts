// Cgroup path logic on fixture mountinfo text and a fake kubelet tree in a tmp
// dir (the real cgroup2 filesystem is covered by test/kernel/cgroup.test.ts).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cgroupDirectory, cgroupIdForPath, cgroupIdForPid, CgroupNotFoundError } from '../../agent/cgroup/cgroup-id.js';
import {
  cgroupIdForContainer,
  cgroupPathForContainer,
  containerCgroupCandidates,
  parseContainerRef,
} from '../../agent/cgroup/container.js';
import { cgroup2MountFromMountinfo, findCgroup2Mount, NoCgroup2MountError } from '../../agent/cgroup/mount.js';

/** Asserts that fn throws an error whose message (not its name) matches. */
function throwsMessage(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: Error) => {
    assert.match(err.message, message);
    return true;
  });
}

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const UNIFIED = `22 27 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;
const V1_ONLY = `35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n`;
// A container's view: a namespaced mount of its own subtree first, the host's whole hierarchy second.
const NESTED = `1000 900 0:23 /kubepods.slice/x.scope /sys/fs/cgroup ro - cgroup2 cgroup2 rw
1001 900 0:23 / /host/sys\\040fs/cgroup rw - cgroup2 cgroup2 rw
`;

describe('cgroup2 mount', () => {
  it('finds the hybrid layout’s unified mount and the unified layout’s', () => {
    assert.deepEqual(cgroup2MountFromMountinfo(HYBRID), { mountPoint: '/sys/fs/cgroup/unified', root: '/' });
    assert.deepEqual(cgroup2MountFromMountinfo(UNIFIED), { mountPoint: '/sys/fs/cgroup', root: '/' });
  });

  it('prefers the mount of the whole hierarchy and unescapes paths', () => {
    assert.deepEqual(cgroup2MountFromMountinfo(NESTED), { mountPoint: '/host/sys fs/cgroup', root: '/' });
  });

  it('says there is none on a v1-only host, and how to fix it', () => {
    assert.equal(cgroup2MountFromMountinfo(V1_ONLY), undefined);
    const dir = mkdtempSync(path.join(tmpdir(), 'loupe-mountinfo-'));
    writeFileSync(path.join(dir, 'mountinfo'), V1_ONLY);
    assert.throws(() => findCgroup2Mount(path.join(dir, 'mountinfo')), (err: Error) => {
      assert.ok(err instanceof NoCgroup2MountError);
      assert.match(err.message, /^no cgroup2 mount in .*mountinfo: .*mount -t cgroup2/);
      return true;
    });
    rmSync(dir, { recursive: true });
  });
});

const ID = 'a'.repeat(60) + 'b0c1';
const POD = '0b7c5e0e-1f4d-4f7e-9b61-3d1c2a1e9f00';
const POD_ = POD.replaceAll('-', '_');

describe('container ids', () => {
  it('accepts a bare id and the pod status forms, narrowing the runtime', () => {
    assert.deepEqual(parseContainerRef(ID), { id: ID, scopePrefixes: ['cri-containerd', 'crio', 'docker'] });
    assert.deepEqual(parseContainerRef(`containerd://${ID}`), { id: ID, scopePrefixes: ['cri-containerd'] });
    assert.deepEqual(parseContainerRef(`cri-o://${ID}`), { id: ID, scopePrefixes: ['crio'] });
    assert.deepEqual(parseContainerRef(`docker://${ID.toUpperCase()}`), { id: ID, scopePrefixes: ['docker'] });
  });

  it('rejects what is not a container id', () => {
    for (const bad of ['', 'abc', `rkt://${ID}`, `${ID}0`, 'g'.repeat(64)]) {
      throwsMessage(() => parseContainerRef(bad), /is not a container id: expected 64 hex digits/);
    }
  });

  it('lists the systemd and cgroupfs candidates of a pod, guaranteed pods directly under the root', () => {
    assert.deepEqual(containerCgroupCandidates(parseContainerRef(`containerd://${ID}`), POD), [
      `kubepods.slice/kubepods-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      `kubepods/pod${POD}/${ID}`,
      `kubepods/burstable/pod${POD}/${ID}`,
      `kubepods/besteffort/pod${POD}/${ID}`,
    ]);
    assert.equal(containerCgroupCandidates(parseContainerRef(ID), POD).length, 3 * 3 + 3);
  });
});

describe('container cgroups in a fake kubelet tree', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'loupe-cgroupfs-'));
  const mount = { mountPoint: root, root: '/' };
  after(() => rmSync(root, { recursive: true, force: true }));
  const make = (rel: string) => {
    mkdirSync(path.join(root, rel), { recursive: true });
    return statSync(path.join(root, rel), { bigint: true }).ino;
  };
  const cases = [
    { layout: 'systemd burstable, containerd', ref: (id: string) => `containerd://${id}`,
      dir: (id: string, uid: string) => `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice/cri-containerd-${id}.scope` },
    { layout: 'systemd besteffort, cri-o', ref: (id: string) => `cri-o://${id}`,
      dir: (id: string, uid: string) => `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replaceAll('-', '_')}.slice/crio-${id}.scope` },
    { layout: 'systemd guaranteed, docker', ref: (id: string) => `docker://${id}`,
      dir: (id: string, uid: string) => `kubepods.slice/kubepods-pod${uid.replaceAll('-', '_')}.slice/docker-${id}.scope` },
    { layout: 'cgroupfs burstable', ref: (id: string) => id, dir: (id: string, uid: string) => `kubepods/burstable/pod${uid}/${id}` },
    { layout: 'cgroupfs guaranteed', ref: (id: string) => `containerd://${id}`, dir: (id: string, uid: string) => `kubepods/pod${uid}/${id}` },
  ];
  cases.forEach((c, i) => {
    const id = i.toString(16).repeat(64);
    const uid = POD.replace(/^0/, String(i));
    it(`${c.layout}: finds it with the pod uid and by searching`, () => {
      const ino = make(c.dir(id, uid));
      make(`${path.dirname(c.dir(id, uid))}/crio-conmon-${id}.scope`); // cri-o’s monitor is not the container
      assert.equal(cgroupPathForContainer(c.ref(id), uid, mount), c.dir(id, uid));
      assert.equal(cgroupIdForContainer(c.ref(id), uid, mount), ino);
      assert.equal(cgroupIdForContainer(c.ref(id), undefined, mount), ino);
    });
  });

  it('says where it looked when the container is not there', () => {
    const missing = 'f'.repeat(64);
    assert.throws(() => cgroupIdForContainer(`containerd://${missing}`, POD, mount), (err: Error) => {
      assert.ok(err instanceof CgroupNotFoundError);
      assert.match(err.message, new RegExp(`^no container ${missing} of pod ${POD} under ${root}/kubepods.slice or ${root}/kubepods \\(looked in: kubepods.slice/kubepods-pod${POD_}.slice/cri-containerd-${missing}.scope, `));
      return true;
    });
    throwsMessage(() => cgroupIdForContainer(missing, undefined, mount), new RegExp(`^no container ${missing} under ${root}/kubepods.slice or ${root}/kubepods \\(looked in: 3 levels below each for cri-containerd-<id>.scope, crio-<id>.scope, docker-<id>.scope, <id>\\)`));
  });

  it('says when there is no kubepods tree at all', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'loupe-empty-'));
    throwsMessage(() => cgroupIdForContainer(ID, undefined, { mountPoint: empty, root: '/' }), /neither exists/);
    rmSync(empty, { recursive: true });
  });
});

describe('cgroup paths and pids', () => {
  const mount = { mountPoint: '/sys/fs/cgroup', root: '/' };
  it('takes filesystem paths under the mount as they are and hierarchy paths relative to it', () => {
    assert.equal(cgroupDirectory('/sys/fs/cgroup/kubepods.slice', mount), '/sys/fs/cgroup/kubepods.slice');
    assert.equal(cgroupDirectory('/kubepods.slice/x.scope', mount), '/sys/fs/cgroup/kubepods.slice/x.scope');
    assert.equal(cgroupDirectory('kubepods.slice', mount), '/sys/fs/cgroup/kubepods.slice');
    assert.equal(cgroupDirectory('/sys/fs/cgroupx', mount), '/sys/fs/cgroup/sys/fs/cgroupx');
  });

  it('rejects a directory that is not a cgroup, and one that does not exist', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'loupe-notcgroup-'));
    throwsMessage(() => cgroupIdForPath(dir, { mountPoint: tmpdir(), root: '/' }), /^cgroup .* is not on a cgroup2 filesystem/);
    throwsMessage(() => cgroupIdForPath('/no/such/cgroup', mount), /^cgroup \/no\/such\/cgroup does not exist \(no directory \/sys\/fs\/cgroup\/no\/such\/cgroup\)$/);
    rmSync(dir, { recursive: true });
  });

  it('reads the 0:: line of /proc/<pid>/cgroup', () => {
    const proc = mkdtempSync(path.join(tmpdir(), 'loupe-proc-'));
    const tree = mkdtempSync(path.join(tmpdir(), 'loupe-tree-'));
    mkdirSync(path.join(proc, '42'));
    writeFileSync(path.join(proc, '42', 'cgroup'), '4:memory:/x\n0::/kubepods.slice/pod.slice\n');
    mkdirSync(path.join(proc, '43'));
    writeFileSync(path.join(proc, '43', 'cgroup'), '4:memory:/x\n');
    mkdirSync(path.join(tree, 'kubepods.slice/pod.slice'), { recursive: true });
    const fake = { mountPoint: tree, root: '/' };
    assert.equal(cgroupIdForPid(42, fake, proc), statSync(path.join(tree, 'kubepods.slice/pod.slice'), { bigint: true }).ino);
    throwsMessage(() => cgroupIdForPid(43, fake, proc), /^pid 43 is in no cgroup v2 \(no "0::" line in /);
    assert.throws(() => cgroupIdForPid(44, fake, proc), (err: Error) => err.message === `pid 44 does not exist (no ${proc}/44/cgroup)`);
    rmSync(proc, { recursive: true });
    rmSync(tree, { recursive: true });
  });
});
