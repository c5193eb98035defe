// Cgroup path logic on fixture mountinfo text and a fake kubelet tree in a tmp
// dir (the real cgroup2 filesystem is covered by test/kernel/cgroup.test.ts).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  cgroupDirectory,
  cgroupDirectoryForNamespacedPath,
  cgroupIdForPath,
  cgroupIdForPid,
  CgroupNotFoundError,
} from '../../engine/cgroup/cgroup-id.js';
import {
  cgroupIdForContainer,
  cgroupPathForContainer,
  containerCgroupCandidates,
  parseContainerRef,
} from '../../engine/cgroup/container.js';
import {
  cgroup2MountFromMountinfo,
  cgroup2MountsFromMountinfo,
  findCgroup2Mount,
  NoCgroup2MountError,
  parseNamespacedCgroupPath,
} from '../../engine/cgroup/mount.js';

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
// An agent pod with a private cgroup namespace three levels down: the runtime's
// tmpfs + cgroup2 at /sys/fs/cgroup (its own view, root /) and the hostPath of
// the host's hierarchy (root /../../..); the host's original mount, copied
// into the pod's mount namespace, lies under the tmpfs.
const NAMESPACED = `60 50 0:38 /../../.. /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
66 46 0:38 /../../.. /host/sys/fs/cgroup rw - cgroup2 cgroup2 rw
67 46 0:70 / /sys/fs/cgroup rw - tmpfs none rw
68 67 0:38 / /sys/fs/cgroup rw - cgroup2 none rw
`;
// The same on a hybrid host: the hostPath of /sys/fs/cgroup is a tmpfs with cgroup2 at unified.
const NAMESPACED_HYBRID = `66 46 0:28 / /host/sys/fs/cgroup rw - tmpfs tmpfs rw
67 66 0:32 /.. /host/sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
68 66 0:38 /../.. /host/sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
69 46 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
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

  it('in a private cgroup namespace, picks the host hierarchy at the DaemonSet’s mount over the pod’s own view', () => {
    assert.deepEqual(cgroup2MountFromMountinfo(NAMESPACED, '/host/sys/fs/cgroup'), { mountPoint: '/host/sys/fs/cgroup', root: '/../../..' });
    // Without a preference the highest root wins too; the hidden original mount is not a candidate.
    assert.deepEqual(cgroup2MountFromMountinfo(NAMESPACED), { mountPoint: '/host/sys/fs/cgroup', root: '/../../..' });
    assert.deepEqual(cgroup2MountsFromMountinfo(NAMESPACED).map((m) => m.mountPoint), ['/host/sys/fs/cgroup', '/sys/fs/cgroup']);
  });

  it('on a hybrid host the hostPath shows cgroup2 one level down, at unified', () => {
    assert.deepEqual(cgroup2MountFromMountinfo(NAMESPACED_HYBRID, '/host/sys/fs/cgroup'), { mountPoint: '/host/sys/fs/cgroup/unified', root: '/../..' });
  });

  it('prefers the configured place even over a higher root elsewhere', () => {
    const both = `${NAMESPACED}1200 900 0:23 /../../../.. /elsewhere rw - cgroup2 cgroup2 rw\n`;
    assert.equal(cgroup2MountFromMountinfo(both, '/host/sys/fs/cgroup')?.mountPoint, '/host/sys/fs/cgroup');
    assert.equal(cgroup2MountFromMountinfo(both)?.mountPoint, '/elsewhere');
  });

  it('$LOUPE_CGROUP_MOUNT must name a place with a cgroup2 mount', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'loupe-mountinfo-'));
    const file = path.join(dir, 'mountinfo');
    writeFileSync(file, NAMESPACED);
    assert.deepEqual(findCgroup2Mount(file, {}), { mountPoint: '/host/sys/fs/cgroup', root: '/../../..' });
    assert.deepEqual(findCgroup2Mount(file, { LOUPE_CGROUP_MOUNT: '/sys/fs/cgroup' }), { mountPoint: '/sys/fs/cgroup', root: '/' });
    throwsMessage(() => findCgroup2Mount(file, { LOUPE_CGROUP_MOUNT: '/nowhere' }), /^no cgroup2 mount at or under \/nowhere in .*, which LOUPE_CGROUP_MOUNT names/);
    rmSync(dir, { recursive: true });
  });

  it('reads namespaced paths: the ways up, then the names', () => {
    assert.deepEqual(parseNamespacedCgroupPath('/'), { ups: 0, names: [] });
    assert.deepEqual(parseNamespacedCgroupPath('/../../..'), { ups: 3, names: [] });
    assert.deepEqual(parseNamespacedCgroupPath('/../../pod2/c1'), { ups: 2, names: ['pod2', 'c1'] });
    assert.throws(() => parseNamespacedCgroupPath('/a/../b'), /has "\.\." after a name/);
  });

  it('says there is none on a v1-only host, and how to fix it', () => {
    assert.equal(cgroup2MountFromMountinfo(V1_ONLY), undefined);
    const dir = mkdtempSync(path.join(tmpdir(), 'loupe-mountinfo-'));
    writeFileSync(path.join(dir, 'mountinfo'), V1_ONLY);
    assert.throws(() => findCgroup2Mount(path.join(dir, 'mountinfo')), (err: Error) => {
      assert.ok(err instanceof NoCgroup2MountError);
      assert.match(err.message, /^this node has no cgroup v2 \(no cgroup2 mount in .*mountinfo\), only cgroup v1.*Fix: run the node with cgroup v2/);
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
    assert.deepEqual(parseContainerRef(ID), { id: ID, scopePrefixes: ['cri-containerd', 'crio', 'docker'], cgroupfsNames: [ID, `crio-${ID}`] });
    assert.deepEqual(parseContainerRef(`containerd://${ID}`), { id: ID, scopePrefixes: ['cri-containerd'], cgroupfsNames: [ID] });
    assert.deepEqual(parseContainerRef(`cri-o://${ID}`), { id: ID, scopePrefixes: ['crio'], cgroupfsNames: [`crio-${ID}`] });
    assert.deepEqual(parseContainerRef(`docker://${ID.toUpperCase()}`), { id: ID, scopePrefixes: ['docker'], cgroupfsNames: [ID] });
  });

  it('rejects what is not a container id', () => {
    for (const bad of ['', 'abc', `rkt://${ID}`, `${ID}0`, 'g'.repeat(64)]) {
      throwsMessage(() => parseContainerRef(bad), /is not a container id: expected 64 hex digits/);
    }
  });

  it('lists the systemd and cgroupfs candidates of a pod, guaranteed pods directly under the root', () => {
    const defaultRoot = (c: string) => !c.startsWith('kubelet');
    assert.deepEqual(containerCgroupCandidates(parseContainerRef(`containerd://${ID}`), POD).filter(defaultRoot), [
      `kubepods.slice/kubepods-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      `kubepods/pod${POD}/${ID}`,
      `kubepods/burstable/pod${POD}/${ID}`,
      `kubepods/besteffort/pod${POD}/${ID}`,
    ]);
    assert.deepEqual(containerCgroupCandidates(parseContainerRef(`cri-o://${ID}`), POD).filter(defaultRoot).slice(3), [
      `kubepods/pod${POD}/crio-${ID}`,
      `kubepods/burstable/pod${POD}/crio-${ID}`,
      `kubepods/besteffort/pod${POD}/crio-${ID}`,
    ]);
    assert.equal(containerCgroupCandidates(parseContainerRef(ID), POD).length, 2 * (3 * 3 + 3 * 2));
  });

  it('lists the same under kubelet --cgroup-root=/kubelet (kind), the systemd names prefixed', () => {
    const kubelet = containerCgroupCandidates(parseContainerRef(`containerd://${ID}`), POD).filter((c) => c.startsWith('kubelet'));
    assert.deepEqual(kubelet, [
      `kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      `kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      `kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      `kubelet/kubepods/pod${POD}/${ID}`,
      `kubelet/kubepods/burstable/pod${POD}/${ID}`,
      `kubelet/kubepods/besteffort/pod${POD}/${ID}`,
    ]);
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
  const slice = (uid: string) => uid.replaceAll('-', '_');
  const HASH = '6d6c5ad4e8a4a0d5b7b0e1f2c3d4e5f6'; // a static pod's config hash: its kubelet uid
  const cases: { layout: string; ref: (id: string) => string; dir: (id: string, uid: string) => string; uid?: string }[] = [
    { layout: 'systemd burstable, containerd', ref: (id) => `containerd://${id}`,
      dir: (id, uid) => `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${slice(uid)}.slice/cri-containerd-${id}.scope` },
    { layout: 'systemd besteffort, cri-o', ref: (id) => `cri-o://${id}`,
      dir: (id, uid) => `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${slice(uid)}.slice/crio-${id}.scope` },
    { layout: 'systemd burstable, cri-o with crun’s container sub-cgroup', ref: (id) => `cri-o://${id}`,
      dir: (id, uid) => `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${slice(uid)}.slice/crio-${id}.scope/container` },
    { layout: 'systemd guaranteed, docker', ref: (id) => `docker://${id}`,
      dir: (id, uid) => `kubepods.slice/kubepods-pod${slice(uid)}.slice/docker-${id}.scope` },
    { layout: 'cgroupfs burstable', ref: (id) => id, dir: (id, uid) => `kubepods/burstable/pod${uid}/${id}` },
    { layout: 'cgroupfs guaranteed', ref: (id) => `containerd://${id}`, dir: (id, uid) => `kubepods/pod${uid}/${id}` },
    { layout: 'cgroupfs besteffort, cri-o', ref: (id) => `cri-o://${id}`, dir: (id, uid) => `kubepods/besteffort/pod${uid}/crio-${id}` },
    { layout: 'cgroupfs, cri-o by a bare id', ref: (id) => id, dir: (id, uid) => `kubepods/burstable/pod${uid}/crio-${id}` },
    { layout: 'static pod, systemd', ref: (id) => `containerd://${id}`, uid: HASH,
      dir: (id, uid) => `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid}.slice/cri-containerd-${id}.scope` },
    { layout: 'static pod, cgroupfs', ref: (id) => `containerd://${id}`, uid: HASH.replace(/^6/, '7'), dir: (id, uid) => `kubepods/besteffort/pod${uid}/${id}` },
    { layout: 'kind (cgroup root /kubelet), systemd', ref: (id) => `containerd://${id}`,
      dir: (id, uid) => `kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${slice(uid)}.slice/cri-containerd-${id}.scope` },
    { layout: 'cgroup root /kubelet, cgroupfs, guaranteed', ref: (id) => `containerd://${id}`, dir: (id, uid) => `kubelet/kubepods/pod${uid}/${id}` },
  ];
  cases.forEach((c, i) => {
    const id = i.toString(16).repeat(64);
    const uid = c.uid ?? POD.replace(/^0/, i.toString(16));
    it(`${c.layout}: finds it with the pod uid and by searching`, () => {
      const ino = make(c.dir(id, uid));
      make(`${path.dirname(c.dir(id, uid))}/crio-conmon-${id}.scope`); // cri-o’s monitor is not the container
      assert.equal(cgroupPathForContainer(c.ref(id), uid, mount), c.dir(id, uid));
      assert.equal(cgroupIdForContainer(c.ref(id), uid, mount), ino);
      assert.equal(cgroupIdForContainer(c.ref(id), undefined, mount), ino);
    });
  });

  it('a container cgroup that holds processes is the leaf, whatever is below it', () => {
    const id = 'd'.repeat(64);
    const dir = `kubepods/besteffort/pod${POD}/${id}`;
    const ino = make(dir);
    make(`${dir}/container`);
    writeFileSync(path.join(root, dir, 'cgroup.procs'), '4242\n');
    assert.equal(cgroupIdForContainer(id, POD, mount), ino);
  });

  it('a container whose processes sit in several sub-cgroups is not one cgroup: says so', () => {
    const id = 'e'.repeat(64);
    const dir = `kubepods/burstable/pod${POD}/${id}`;
    make(`${dir}/a`);
    make(`${dir}/b`);
    throwsMessage(() => cgroupIdForContainer(id, POD, mount), new RegExp(`^container cgroup ${dir} holds no processes itself but 2 sub-cgroups \\(a, b\\): Loupe traces one cgroup per container \\(looked in: ${root}/${dir}\\)$`));
  });

  it('says where it looked when the container is not there: in the pod’s cgroup when there is one', () => {
    const missing = 'f'.repeat(64);
    const podDir = `kubepods/burstable/pod${POD.replace(/^0/, '4')}`;
    assert.throws(() => cgroupIdForContainer(`containerd://${missing}`, POD.replace(/^0/, '4'), mount), (err: Error) => {
      assert.ok(err instanceof CgroupNotFoundError);
      assert.match(err.message, new RegExp(`^no container ${missing} of pod ${POD.replace(/^0/, '4')} in the cgroup2 hierarchy at ${root}: is it running on this node\\? \\(looked in: `));
      assert.deepEqual(err.lookedIn, [`${root}/${podDir}/${missing}`]);
      return true;
    });
    const NO_POD = 'dddddddd-1f4d-4f7e-9b61-3d1c2a1e9f00';
    const NO_POD_ = NO_POD.replaceAll('-', '_');
    assert.throws(() => cgroupIdForContainer(`cri-o://${missing}`, NO_POD, mount), (err: CgroupNotFoundError) => {
      // No such pod: its cgroup under each driver and QoS class whose root exists here (all four, in this tree).
      assert.deepEqual(err.lookedIn, [
        `${root}/kubepods.slice/kubepods-pod${NO_POD_}.slice`,
        `${root}/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${NO_POD_}.slice`,
        `${root}/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${NO_POD_}.slice`,
        `${root}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod${NO_POD_}.slice`,
        `${root}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod${NO_POD_}.slice`,
        `${root}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${NO_POD_}.slice`,
        `${root}/kubepods/pod${NO_POD}`,
        `${root}/kubepods/burstable/pod${NO_POD}`,
        `${root}/kubepods/besteffort/pod${NO_POD}`,
        `${root}/kubelet/kubepods/pod${NO_POD}`,
        `${root}/kubelet/kubepods/burstable/pod${NO_POD}`,
        `${root}/kubelet/kubepods/besteffort/pod${NO_POD}`,
      ]);
      return true;
    });
    throwsMessage(() => cgroupIdForContainer(missing, undefined, mount), new RegExp(`^no container ${missing} under ${root}/kubepods.slice or ${root}/kubelet.slice/kubelet-kubepods.slice or ${root}/kubepods or ${root}/kubelet/kubepods \\(looked in: 3 levels below each for cri-containerd-<id>.scope, crio-<id>.scope, docker-<id>.scope, <id>, crio-<id>\\)`));
  });

  it('says when there is no kubepods tree at all', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'loupe-empty-'));
    throwsMessage(() => cgroupIdForContainer(ID, undefined, { mountPoint: empty, root: '/' }), /none exists/);
    assert.throws(() => cgroupIdForContainer(ID, POD, { mountPoint: empty, root: '/' }), (err: CgroupNotFoundError) => {
      assert.deepEqual(err.lookedIn, [`${empty}/kubepods.slice`, `${empty}/kubelet.slice/kubelet-kubepods.slice`, `${empty}/kubepods`, `${empty}/kubelet/kubepods`]);
      return true;
    });
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

  it('maps paths a cgroup namespace shows onto a mount of the host’s hierarchy', () => {
    // This process is at its namespace's root, kubepods/burstable/podA/agent on the host; the mount shows the host's root.
    const proc = mkdtempSync(path.join(tmpdir(), 'loupe-proc-'));
    const tree = mkdtempSync(path.join(tmpdir(), 'loupe-tree-'));
    mkdirSync(path.join(proc, String(process.pid)));
    writeFileSync(path.join(proc, String(process.pid), 'cgroup'), '0::/\n');
    const cgroup = (rel: string, procs = '') => {
      mkdirSync(path.join(tree, rel), { recursive: true });
      writeFileSync(path.join(tree, rel, 'cgroup.procs'), procs);
      writeFileSync(path.join(tree, rel, 'cgroup.events'), `populated ${procs === '' ? 0 : 1}\nfrozen 0\n`);
    };
    for (const rel of ['kubepods', 'kubepods/burstable', 'kubepods/burstable/podA', 'kubepods/burstable/podB']) cgroup(rel, '1');
    cgroup('kubepods/burstable/podA/decoy', '99\n');
    cgroup('kubepods/burstable/podA/agent', `${process.pid}\n`);
    cgroup('kubepods/burstable/podB/app', '7\n');
    const host = { mountPoint: tree, root: '/../../../..' };
    assert.equal(cgroupDirectoryForNamespacedPath('/', host, proc), path.join(tree, 'kubepods/burstable/podA/agent'));
    assert.equal(cgroupDirectoryForNamespacedPath('/../../podB/app', host, proc), path.join(tree, 'kubepods/burstable/podB/app'));
    assert.equal(cgroupDirectoryForNamespacedPath('/../../../../init.scope', host, proc), path.join(tree, 'init.scope'));
    throwsMessage(() => cgroupDirectoryForNamespacedPath('/../../../../../x', host, proc), /is outside the cgroup2 mount at .* which shows \/\.\.\/\.\.\/\.\.\/\.\./);
    // The pod's own view (root /) reaches its own subtree only.
    const own = { mountPoint: '/sys/fs/cgroup', root: '/' };
    assert.equal(cgroupDirectoryForNamespacedPath('/sub', own, proc), '/sys/fs/cgroup/sub');
    throwsMessage(() => cgroupDirectoryForNamespacedPath('/../../podB/app', own, proc), /^cgroup \/\.\.\/\.\.\/podB\/app is outside the cgroup2 mount at \/sys\/fs\/cgroup, which shows \/$/);
    // A mount of a subtree (the NESTED fixture's first line) strips its root.
    assert.equal(cgroupDirectoryForNamespacedPath('/kubepods.slice/x.scope/y', { mountPoint: '/m', root: '/kubepods.slice/x.scope' }, proc), '/m/y');
    rmSync(proc, { recursive: true });
    rmSync(tree, { recursive: true });
  });
});
