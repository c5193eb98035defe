// The native addon against the live kernel, with the fixture in
// test/kernel/fixtures/native-fixture.bpf.c: every program counts getppid(2)
// calls (process.ppid makes exactly one), packets or samples, so each test
// knows the ground truth.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type TestContext } from 'node:test';

import { BpfError, BpfObject, PerfSoftwareEvent, RingBuffer, canOpenCgroupById, enableStats, mapTypeSupported, possibleCpus } from '../../native/index.js';
import { requireKernel } from '../support/privileged.js';
import { tracingMounts, unmountTracingMountsSince } from '../support/tracefs.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/build/native-fixture.bpf.o', import.meta.url));
const NATIVE_INDEX = fileURLToPath(new URL('../../native/index.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

// enum fixture_hit_slot in fixtures/native-fixture.h
const HIT = { tracepoint: 0, rawTp: 1, tpBtf: 2, cgroupSkb: 3, uprobe: 4 } as const;
const NO_SUCH_PID = 0x7ffffff0;

/** Opens, configures and loads the fixture; closed when the test ends. */
async function loadFixture(t: TestContext, targetTgid = process.pid): Promise<BpfObject> {
  const object = BpfObject.open(FIXTURE);
  t.after(() => object.close());
  object.setRodata('target_tgid', targetTgid);
  object.setAutoload('fixture_rejected', false);
  await object.loadAsync();
  return object;
}

// The tracepoint/ programs mount tracefs when it is missing (see
// no-tracefs.test.ts); later test files must see the machine as it was.
const tracingMountsBefore = tracingMounts();
test.after(() => unmountTracingMountsSince(tracingMountsBefore));

function getppid(times: number): void {
  for (let i = 0; i < times; i++) void process.ppid;
}

function u32(n: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(n);
  return key;
}

function u64(n: bigint): Buffer {
  const value = Buffer.alloc(8);
  value.writeBigUInt64LE(n);
  return value;
}

/** Sum over CPUs of a u64 slot of the fixture's per-CPU `hits` array. */
function hits(object: BpfObject, slot: number): bigint {
  const map = object.map('hits');
  return map.perCpuValues(map.lookup(u32(slot)) ?? Buffer.alloc(0)).reduce((sum, v) => sum + v.readBigUInt64LE(), 0n);
}

function cgroup2Mount(): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [mount, filesystem] = line.split(' - ');
    if (filesystem?.split(' ')[0] === 'cgroup2') {
      const mountPoint = mount?.split(' ')[4];
      if (mountPoint !== undefined) return mountPoint.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    }
  }
  throw new Error('no cgroup2 mount in /proc/self/mountinfo: mount one (mount -t cgroup2 none /sys/fs/cgroup/unified)');
}

function bpftoolIds(kind: 'prog' | 'link'): Set<number> {
  const listed = JSON.parse(execFileSync('bpftool', ['-j', kind, 'show'], { encoding: 'utf8' })) as Array<{ id: number }>;
  return new Set(listed.map((entry) => entry.id));
}

async function eventually(check: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what} (waited ${timeoutMs} ms)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

test('open lists programs and maps; load gives them kernel ids', async (t) => {
  if (!requireKernel(t)) return;
  const object = BpfObject.open(FIXTURE);
  t.after(() => object.close());
  assert.deepEqual(
    object.programs().map((p) => [p.name, p.section]),
    [
      ['fixture_tracepoint', 'tracepoint/syscalls/sys_enter_getppid'],
      ['fixture_rejected', 'tracepoint/syscalls/sys_enter_getppid'],
      ['fixture_raw_tp', 'raw_tp/sys_enter'],
      ['fixture_tp_btf', 'tp_btf/sys_enter'],
      ['fixture_uprobe', 'uprobe'],
      ['fixture_cgroup_skb', 'cgroup_skb/egress'],
      ['fixture_perf_event', 'perf_event'],
    ],
  );
  const counts = object.map('counts');
  assert.deepEqual([counts.type, counts.keySize, counts.valueSize, counts.maxEntries, counts.perCpu], ['hash', 4, 8, 1024, false]);
  assert.equal(object.map('events').type, 'ringbuf');
  assert.equal(object.map('hits').type, 'percpu_array');
  assert.throws(() => counts.fd, /not loaded; await loadAsync\(\) first/);

  object.setMaxEntries('counts', 2048);
  object.setAutoload('fixture_rejected', false);
  await object.loadAsync();
  assert.equal(object.loaded, true);
  assert.equal(counts.maxEntries, 2048);
  const programIds = bpftoolIds('prog');
  assert.ok(programIds.has(object.program('fixture_tracepoint').id));
  assert.ok(object.program('fixture_tracepoint').fd > 2);
  assert.ok(counts.id > 0 && counts.fd > 2);
  assert.throws(() => object.program('fixture_rejected').fd, /was not loaded \(its autoload is off\)/);
  assert.throws(() => object.setMaxEntries('counts', 1), /must be called before loadAsync\(\)/);
  await assert.rejects(() => object.loadAsync(), /already loaded/);
});

test('unknown names fail with the names there are', (t) => {
  if (!requireKernel(t)) return;
  const object = BpfObject.open(FIXTURE);
  t.after(() => object.close());
  assert.throws(() => object.program('nope'), /no program 'nope'; its programs: fixture_tracepoint, fixture_rejected, /);
  assert.throws(() => object.map('nope'), /no map 'nope'; its maps: counts, events, /);
  assert.throws(() => object.setRodata('nope', 1), /no const volatile variable 'nope' in \.rodata; its variables: target_tgid/);
  assert.throws(() => object.setRodata('target_tgid', 2 ** 32), /does not fit its unsigned 4-byte type/);
  assert.throws(() => object.setRodata('target_tgid', -1), /does not fit/);
  assert.throws(() => object.setRodata('target_tgid', 1.5), /not an integer/);
  assert.throws(() => object.setRodata('target_tgid', Buffer.alloc(8)), /the variable is 4 bytes, the value 8/);
  assert.throws(() => BpfObject.open('/nonexistent.bpf.o'), (e: unknown) => e instanceof BpfError && e.code === 'ENOENT');
});

test('setRodata filters by pid: only the target process is counted', async (t) => {
  if (!requireKernel(t)) return;
  const mine = await loadFixture(t, process.pid);
  const other = await loadFixture(t, NO_SUCH_PID);
  mine.program('fixture_tracepoint').attach();
  other.program('fixture_tracepoint').attach();
  getppid(7);
  assert.equal(mine.map('counts').lookup(u32(process.pid))?.readBigUInt64LE(), 7n);
  assert.deepEqual(other.map('counts').keys(), []);
});

test('every attach kind sees exactly the getppid calls of this process', async (t) => {
  if (!requireKernel(t)) return;
  const object = await loadFixture(t);
  object.program('fixture_tracepoint').attachTracepoint('syscalls', 'sys_enter_getppid');
  object.program('fixture_raw_tp').attachRawTracepoint('sys_enter');
  object.program('fixture_tp_btf').attach();
  const libc = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map((line) => line.split(/\s+/)[5])
    .find((path) => path !== undefined && /\/libc\.so\.6$/.test(path));
  assert.ok(libc, 'libc.so.6 is mapped by node');
  object.program('fixture_uprobe').attachUprobe({ binaryPath: libc, functionName: 'getppid', pid: process.pid });
  getppid(11);
  assert.equal(hits(object, HIT.tracepoint), 11n);
  assert.equal(hits(object, HIT.rawTp), 11n);
  assert.equal(hits(object, HIT.tpBtf), 11n);
  assert.equal(hits(object, HIT.uprobe), 11n);
});

test('a tracepoint this kernel lacks fails with ENOENT, and no verifier log', async (t) => {
  if (!requireKernel(t)) return;
  const object = await loadFixture(t);
  const program = object.program('fixture_tracepoint');
  assert.throws(
    () => program.attachTracepoint('syscalls', 'sys_enter_no_such_call'),
    (error: unknown) =>
      error instanceof BpfError &&
      error.code === 'ENOENT' &&
      /tracepoint syscalls:sys_enter_no_such_call/.test(error.message) &&
      error.verifierLog === undefined,
  );
  assert.throws(
    () => object.program('fixture_raw_tp').attachRawTracepoint('no_such_raw_tracepoint'),
    (error: unknown) => error instanceof BpfError && error.code === 'ENOENT' && error.verifierLog === undefined,
  );
  assert.throws(() => object.program('fixture_cgroup_skb').attach(), (error: unknown) => error instanceof BpfError && /need an explicit attach/.test(error.message));
});

test('a destroyed link stops counting', async (t) => {
  if (!requireKernel(t)) return;
  const object = await loadFixture(t);
  const link = object.program('fixture_raw_tp').attach();
  assert.ok(link.id > 0);
  getppid(3);
  link.destroy();
  link.destroy();
  assert.equal(link.destroyed, true);
  assert.ok(!bpftoolIds('link').has(link.id));
  getppid(5);
  assert.equal(hits(object, HIT.rawTp), 3n);
});

test('hash map CRUD, keys, entries and batch lookup-and-delete', async (t) => {
  if (!requireKernel(t)) return;
  const counts = (await loadFixture(t)).map('counts');
  assert.equal(counts.lookup(u32(1)), undefined);
  counts.update(u32(1), u64(10n));
  assert.deepEqual(counts.lookup(u32(1)), u64(10n));
  assert.throws(() => counts.update(u32(1), u64(11n), 'noexist'), (e: unknown) => e instanceof BpfError && e.code === 'EEXIST');
  assert.throws(() => counts.update(u32(2), u64(11n), 'exist'), (e: unknown) => e instanceof BpfError && e.code === 'ENOENT');
  counts.update(u32(1), u64(12n), 'exist');
  assert.deepEqual(counts.lookup(u32(1)), u64(12n));
  assert.equal(counts.delete(u32(1)), true);
  assert.equal(counts.delete(u32(1)), false);
  assert.throws(() => counts.lookup(Buffer.alloc(8)), /key is 8 bytes, the map's keys are 4/);
  assert.throws(() => counts.update(u32(1), Buffer.alloc(4)), /value is 4 bytes, the map needs 8/);

  const n = 300; // more than one hash bucket's worth, fewer than max_entries
  for (let i = 0; i < n; i++) counts.update(u32(i), u64(BigInt(i) * 3n));
  assert.equal(counts.keys().length, n);
  const entries = counts.entries();
  assert.equal(entries.length, n);
  for (const [key, value] of entries) assert.equal(value.readBigUInt64LE(), BigInt(key.readUInt32LE()) * 3n);

  const drained = counts.lookupAndDeleteBatch();
  assert.equal(drained.length, n);
  assert.deepEqual(
    drained.map(([key]) => key.readUInt32LE()).sort((a, b) => a - b),
    Array.from({ length: n }, (_, i) => i),
  );
  for (const [key, value] of drained) assert.equal(value.readBigUInt64LE(), BigInt(key.readUInt32LE()) * 3n);
  assert.deepEqual(counts.keys(), []);
  assert.deepEqual(counts.lookupAndDeleteBatch(), []);
});

test('per-CPU maps hold one 8-byte-padded value per possible CPU', async (t) => {
  if (!requireKernel(t)) return;
  const object = await loadFixture(t);
  const cpus = possibleCpus();
  assert.ok(cpus >= 1);
  const narrow = object.map('narrow'); // __u32 values
  assert.equal(narrow.perCpu, true);
  const value = Buffer.alloc(cpus * 8);
  for (let cpu = 0; cpu < cpus; cpu++) value.writeUInt32LE(1000 + cpu, cpu * 8);
  narrow.update(u32(5), value);
  const read = narrow.lookup(u32(5));
  assert.equal(read?.length, cpus * 8);
  assert.deepEqual(read, value);
  assert.deepEqual(
    narrow.perCpuValues(read).map((v) => v.readUInt32LE()),
    Array.from({ length: cpus }, (_, cpu) => 1000 + cpu),
  );
  assert.throws(() => narrow.update(u32(5), Buffer.alloc(4)), /one value per possible CPU, each padded to 8 bytes/);
  const drained = narrow.lookupAndDeleteBatch();
  assert.equal(drained.length, 1);
  assert.deepEqual(drained[0]?.[1], value);

  // Written by BPF on whichever CPU ran the syscall: the sum is exact.
  object.program('fixture_raw_tp').attach();
  getppid(9);
  assert.equal(hits(object, HIT.rawTp), 9n);
  assert.throws(() => object.map('hits').delete(u32(0)), /is an array: its elements cannot be deleted/);
});

test('the ring buffer delivers records of real syscalls on the event loop', async (t) => {
  if (!requireKernel(t)) return;
  const object = await loadFixture(t);
  object.program('fixture_tracepoint').attach();
  const received: Buffer[] = [];
  const n = 5;
  let ring: RingBuffer | undefined;
  const all = new Promise<void>((resolve) => {
    ring = new RingBuffer(object.map('events'), (record) => {
      received.push(record);
      if (received.length === n) resolve();
    });
  });
  t.after(() => ring?.close());
  getppid(n);
  assert.equal(received.length, 0, 'records arrive on a later turn of the event loop, not synchronously');
  await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`${received.length} of ${n} records in 2 s`)), 2000))]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(received.length, n);

  const comm = readFileSync(`/proc/self/task/${process.pid}/comm`, 'utf8').trim();
  const cgroupPath = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((line) => line.startsWith('0::'))?.slice(3);
  assert.ok(cgroupPath !== undefined, 'this process has a cgroup2 path');
  const cgroupId = statSync(join(cgroup2Mount(), cgroupPath), { bigint: true }).ino;
  for (const record of received) {
    assert.equal(record.length, 32);
    assert.equal(record.readUInt32LE(0), process.pid);
    assert.equal(record.readUInt32LE(4), process.pid); // the main thread
    assert.equal(record.readBigUInt64LE(8), cgroupId);
    assert.equal(record.subarray(16).toString('latin1').replace(/\0.*$/s, ''), comm);
  }
});

test('ring buffer consume() is synchronous and rethrows what onRecord throws', async (t) => {
  if (!requireKernel(t)) return;
  const object = await loadFixture(t);
  object.program('fixture_tracepoint').attach();
  let calls = 0;
  const ring = new RingBuffer(object.map('events'), () => {
    calls++;
    if (calls === 2) throw new Error('boom from onRecord');
  });
  t.after(() => ring.close());
  getppid(4);
  assert.throws(() => ring.consume(), /boom from onRecord/);
  assert.equal(calls, 2);
  assert.equal(ring.consume(), 2, 'the records after the failing one are still there');
  assert.equal(calls, 4);
  assert.throws(() => new RingBuffer(object.map('counts'), () => {}), /map 'counts' is a hash, not a ringbuf/);
  assert.throws(() => object.map('events').lookup(u32(0)), /read it with RingBuffer/);
});

test('a program the verifier rejects rejects loadAsync with a BpfError naming it and carrying its own verifier log', async (t) => {
  if (!requireKernel(t)) return;
  const object = BpfObject.open(FIXTURE);
  t.after(() => object.close());
  object.setRodata('target_tgid', process.pid);
  await assert.rejects(
    () => object.loadAsync(),
    (error: unknown) => {
      assert.ok(error instanceof BpfError);
      assert.equal(error.code, 'EACCES');
      assert.equal(error.errno, 13);
      assert.equal(error.program, 'fixture_rejected');
      assert.match(error.message, /the verifier rejected program 'fixture_rejected': R0 invalid mem access 'map_value_or_null'/);
      assert.ok(error.verifierLog !== undefined);
      assert.match(error.verifierLog, /R0 invalid mem access 'map_value_or_null'\n/);
      // The program's own log buffer, not libbpf's printout of it.
      assert.doesNotMatch(error.verifierLog, /libbpf:|PROG LOAD LOG/);
      assert.doesNotMatch(error.libbpfLog ?? '', /invalid mem access/);
      return true;
    },
  );
  await assert.rejects(() => object.loadAsync(), /failed to load before; libbpf cannot retry/);
});

test('close() destroys every link and frees every program; use after close fails clearly', async (t) => {
  if (!requireKernel(t)) return;
  const object = await loadFixture(t);
  const links = [
    object.program('fixture_tracepoint').attach(),
    object.program('fixture_raw_tp').attach(),
    object.program('fixture_tp_btf').attach(),
  ];
  const ring = new RingBuffer(object.map('events'), () => {});
  // fixture_rejected is left out (autoload off): loadedPrograms() skips it, or its id would throw.
  const programIds = object.loadedPrograms().map((p) => p.id);
  assert.ok(!object.loadedPrograms().some((p) => p.name === 'fixture_rejected'));
  const linkIds = links.map((link) => link.id);
  const before = { programs: bpftoolIds('prog'), links: bpftoolIds('link') };
  assert.ok(programIds.every((id) => before.programs.has(id)));
  assert.ok(linkIds.every((id) => id > 0 && before.links.has(id)));

  object.close();
  object.close();
  assert.ok(links.every((link) => link.destroyed));
  assert.equal(ring.closed, true);
  await eventually(() => {
    const after = { programs: bpftoolIds('prog'), links: bpftoolIds('link') };
    return programIds.every((id) => !after.programs.has(id)) && linkIds.every((id) => !after.links.has(id));
  }, 'fixture programs and links are gone from the kernel after close()');
  assert.throws(() => object.map('counts'), /BpfObject 'native-fixture' is closed/);
  assert.throws(() => links[0]?.program.attach(), /its BpfObject 'native-fixture' is closed/);
});

test('an object the garbage collector takes frees its links', async (t) => {
  if (!requireKernel(t)) return;
  // --expose-gc does not pass through the test runner: a child process does it.
  const script = `
    const { BpfObject } = await import(${JSON.stringify(NATIVE_INDEX)});
    const { execFileSync } = await import('node:child_process');
    const linkIds = () => new Set(JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' })).map((l) => l.id));
    let object = BpfObject.open(${JSON.stringify(FIXTURE)});
    object.setAutoload('fixture_rejected', false);
    await object.loadAsync();
    const id = object.program('fixture_raw_tp').attach().id;
    const attached = linkIds().has(id);
    object = undefined;
    for (let i = 0; i < 10 && linkIds().has(id); i++) {
      globalThis.gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    console.log(JSON.stringify({ attached, afterGc: linkIds().has(id) }));
  `;
  const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: REPO_ROOT, // where --import finds tsx
  });
  assert.deepEqual(JSON.parse(output), { attached: true, afterGc: false });
});

test('attachCgroup counts the egress packets of a process in a real cgroup2 directory', async (t) => {
  if (!requireKernel(t)) return;
  const object = await loadFixture(t);
  const cgroup = join(cgroup2Mount(), `loupe-native-test-${process.pid}`);
  mkdirSync(cgroup);
  t.after(() => rmdirSync(cgroup));
  const link = object.program('fixture_cgroup_skb').attachCgroup(cgroup);
  t.after(() => link.destroy());
  assert.throws(() => object.program('fixture_cgroup_skb').attachCgroup('/proc'), /not on a cgroup2 file system/);

  const sendDatagram = `
    const socket = require('node:dgram').createSocket('udp4');
    socket.send('x', 9, '127.0.0.1', () => socket.close());
  `;
  // A packet from outside the cgroup does not count.
  await new Promise<void>((resolve) => {
    const socket = createSocket('udp4');
    socket.send('x', 9, '127.0.0.1', () => socket.close(() => resolve()));
  });
  assert.equal(hits(object, HIT.cgroupSkb), 0n);

  const child = spawn(
    process.execPath,
    ['-e', `require('node:fs').writeFileSync(${JSON.stringify(join(cgroup, 'cgroup.procs'))}, String(process.pid)); ${sendDatagram}`],
    { stdio: 'inherit' },
  );
  assert.equal(await exited(child), 0);
  assert.ok(hits(object, HIT.cgroupSkb) >= 1n, 'the datagram sent from inside the cgroup was seen');
  link.destroy();
});

// The fixture has no cgroup storage map; the syscalls probe's object has one.
const SYSCALLS_OBJECT = fileURLToPath(new URL('../../bpf/build/syscalls.bpf.o', import.meta.url));

test('cgroup storage is written and deleted by cgroup id; a missing cgroup is false, not an error', async (t) => {
  if (!requireKernel(t)) return;
  assert.equal(mapTypeSupported('hash'), true);
  assert.equal(mapTypeSupported('cgrp_storage'), true, 'kernel >= 6.2 has cgroup storage');
  assert.throws(() => mapTypeSupported('no_such_type'), /knows no map type 'no_such_type'/);
  const object = BpfObject.open(SYSCALLS_OBJECT);
  t.after(() => object.close());
  object.setRodata('use_target_storage', true);
  await object.loadAsync();
  const storage = object.map('target_storage');
  assert.equal(storage.type, 'cgrp_storage');
  const mountPoint = cgroup2Mount();
  const cgroup = join(mountPoint, `loupe-native-storage-${process.pid}`);
  mkdirSync(cgroup);
  let removed = false;
  t.after(() => removed || rmdirSync(cgroup));
  const cgroupId = statSync(cgroup, { bigint: true }).ino;
  const value = Buffer.alloc(storage.valueSize, 7);

  assert.equal(storage.deleteCgroupStorage(mountPoint, cgroupId), false, 'nothing stored yet');
  assert.equal(storage.updateCgroupStorage(mountPoint, cgroupId, value), true);
  assert.throws(() => storage.updateCgroupStorage(mountPoint, cgroupId, value, 'noexist'), (e: unknown) => e instanceof BpfError && e.code === 'EEXIST');
  assert.equal(storage.deleteCgroupStorage(mountPoint, cgroupId), true);
  assert.equal(storage.deleteCgroupStorage(mountPoint, cgroupId), false, 'deleted');
  assert.throws(() => storage.updateCgroupStorage(mountPoint, cgroupId, Buffer.alloc(3)), /value is 3 bytes, the map needs 16/);
  assert.throws(() => object.map('targets').updateCgroupStorage(mountPoint, cgroupId, value), /the map is a hash, not a cgrp_storage/);

  rmdirSync(cgroup);
  removed = true;
  assert.equal(storage.updateCgroupStorage(mountPoint, cgroupId, value), false, 'a removed cgroup');
  assert.equal(storage.deleteCgroupStorage(mountPoint, cgroupId), false);
});

test('opening cgroups by id needs CAP_DAC_READ_SEARCH', (t) => {
  if (!requireKernel(t)) return;
  const mountPoint = cgroup2Mount();
  assert.equal(canOpenCgroupById(mountPoint), true);
  const script = `import { canOpenCgroupById } from ${JSON.stringify(NATIVE_INDEX)}; console.log(canOpenCgroupById(${JSON.stringify(mountPoint)}));`;
  const output = execFileSync(
    'setpriv',
    ['--bounding-set=-dac_read_search', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8', cwd: REPO_ROOT },
  );
  assert.equal(output.trim(), 'false');
});

test('attachPerfEvent with software cpu-clock on CPU 0 samples a busy loop pinned there', async (t) => {
  if (!requireKernel(t)) return;
  const object = await loadFixture(t);
  const samplePeriodNs = 1_000_000; // one sample per ms of CPU time
  object.program('fixture_perf_event').attachPerfEvent({
    cpu: 0,
    type: 'software',
    config: PerfSoftwareEvent.cpuClock,
    samplePeriod: samplePeriodNs,
  });
  // Busy for 500 ms of its own CPU time (not wall time), so that other load
  // on CPU 0 does not change the expected ~500 samples.
  const busyCpuMs = 500;
  const busyLoop = `for (let u = process.cpuUsage(); u.user + u.system < ${busyCpuMs * 1000}; u = process.cpuUsage());`;
  const child = spawn('taskset', ['-c', '0', process.execPath, '-e', busyLoop], { stdio: 'inherit' });
  assert.equal(await exited(child), 0);
  const samples = object.map('samples').lookup(u32(child.pid ?? -1))?.readBigUInt64LE() ?? 0n;
  assert.ok(samples >= 350n && samples <= 750n, `${samples} cpu-clock samples of ${busyCpuMs} ms of CPU time on CPU 0`);
});

test('enableStats makes run time and count grow', async (t) => {
  if (!requireKernel(t)) return;
  const object = await loadFixture(t);
  const program = object.program('fixture_raw_tp');
  const stats = enableStats();
  t.after(() => stats.close());
  program.attach();
  getppid(20);
  const { runCount, runTimeNs } = program.stats();
  assert.ok(runCount >= 20n, `runCount ${runCount} counts at least our 20 syscalls`);
  assert.ok(runTimeNs > 0n);
  stats.close();
  stats.close();
});
