// The pure parts of finding each targeted process's libssl: maps lines →
// libssl paths (OpenSSL 3 and 1.1 names), dedupe by inode, and cgroup ids →
// directories and pids on a tree in a tmp dir (the real cgroup2 filesystem and
// real libssl users are test/kernel/tls-probe.test.ts).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CgroupDirectories, cgroupProcs } from '../../engine/cgroup/cgroup-processes.js';
import { parseProcMaps } from '../../engine/symbolize/proc-maps.js';
import { libraryKey, libsslPaths, newByInode, type LibraryFile } from '../../probes/tls/libssl-discovery.js';

const MAPS = `
55d0c8a00000-55d0c8a01000 r--p 00000000 08:01 1234                       /usr/bin/curl
55d0c8a01000-55d0c8a05000 r-xp 00001000 08:01 1234                       /usr/bin/curl
7f84c60c0000-7f84c60d0000 r--p 00000000 08:01 2001                       /usr/lib/x86_64-linux-gnu/libssl.so.3
7f84c60d0000-7f84c6120000 r-xp 00010000 08:01 2001                       /usr/lib/x86_64-linux-gnu/libssl.so.3
7f84c6130000-7f84c6140000 r-xp 00000000 08:01 2002                       /usr/lib/x86_64-linux-gnu/libcrypto.so.3
7f84c6150000-7f84c6160000 r-xp 00000000 00:2e 3001                       /opt/legacy/lib/libssl.so.1.1
7f84c6170000-7f84c6180000 r-xp 00000000 08:01 4001                       /usr/lib/libssl.so.3 (deleted)
7f84c6190000-7f84c61a0000 r-xp 00000000 08:01 5001                       /usr/lib/libssl3.so
7f84c61b0000-7f84c61c0000 rw-p 00000000 00:00 0                          [heap]
7ffc1c5f2000-7ffc1c5f4000 r-xp 00000000 00:00 0                          [vdso]
`;

describe('libsslPaths', () => {
  it("finds OpenSSL 3's and 1.1's libssl among a process's executable mappings, each once", () => {
    assert.deepEqual(libsslPaths(parseProcMaps(MAPS)), ['/usr/lib/x86_64-linux-gnu/libssl.so.3', '/opt/legacy/lib/libssl.so.1.1']);
  });

  it('leaves out unlinked files (no path reaches them), other libraries named like it, and special mappings', () => {
    const paths = libsslPaths(parseProcMaps(MAPS));
    assert.ok(!paths.some((p) => p.includes('deleted') || p.includes('libssl3') || p.includes('libcrypto') || p.startsWith('[')));
  });

  it('finds nothing in a process without libssl', () => {
    assert.deepEqual(libsslPaths(parseProcMaps(MAPS.split('\n').filter((l) => !l.includes('libssl')).join('\n'))), []);
  });
});

describe('newByInode', () => {
  const file = (name: string, dev: bigint, ino: bigint): LibraryFile => ({ file: name, dev, ino });

  it('keeps the first file of each (device, inode): one libssl shared by many containers is attached once', () => {
    const candidates = [
      file('/proc/10/root/usr/lib/libssl.so.3', 1n, 100n),
      file('/proc/11/root/usr/lib/libssl.so.3', 1n, 100n),
      file('/proc/12/root/lib/libssl.so.3', 2n, 100n), // same inode number on another device: another file
      file('/proc/13/root/lib/libssl.so.1.1', 1n, 200n),
    ];
    assert.deepEqual(
      newByInode(candidates, new Set()).map((c) => c.file),
      ['/proc/10/root/usr/lib/libssl.so.3', '/proc/12/root/lib/libssl.so.3', '/proc/13/root/lib/libssl.so.1.1'],
    );
  });

  it('leaves out files already known', () => {
    const known = new Set([libraryKey({ dev: 1n, ino: 100n })]);
    assert.deepEqual(newByInode([file('/a', 1n, 100n), file('/b', 1n, 101n)], known).map((c) => c.file), ['/b']);
  });
});

describe('CgroupDirectories', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'loupe-cgroups-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const mkdir = (...names: string[]) => {
    const dir = path.join(root, ...names);
    mkdirSync(dir, { recursive: true });
    return { dir, id: statSync(dir, { bigint: true }).ino };
  };
  const mount = { mountPoint: root, root: '/' };

  it('finds the directory of each id by walking the hierarchy, and forgets one that is gone', () => {
    const a = mkdir('kubepods.slice', 'kubepods-burstable.slice', 'pod-a.slice', 'cri-containerd-a.scope');
    const b = mkdir('kubepods.slice', 'kubepods-pod-b.slice', 'cri-containerd-b.scope');
    const directories = new CgroupDirectories(mount);
    assert.deepEqual(directories.directories([a.id, b.id, 1n]), new Map([[a.id, a.dir], [b.id, b.dir]]));
    rmSync(b.dir, { recursive: true });
    assert.deepEqual(directories.directories([a.id, b.id]), new Map([[a.id, a.dir]]));
  });

  it('reads the pids of a cgroup.procs, none for a directory that is gone', () => {
    const c = mkdir('c');
    writeFileSync(path.join(c.dir, 'cgroup.procs'), '12\n345\n');
    assert.deepEqual(cgroupProcs(c.dir), [12, 345]);
    assert.deepEqual(cgroupProcs(path.join(root, 'gone')), []);
  });
});
