// The biolatency probe's in-flight map against the live kernel: a start entry
// keyed by a request's address must never outlive that request, because the
// address is reused by the next request from the same tag pool, whoever
// issues it. Each test drives real I/O at a loop device of its own (one
// hardware queue, nothing else issues to it) from kubelet-shaped pods.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { probeObjectDirectory } from '../../engine/probe-objects.js';
import { biolatency } from '../../probes/biolatency/biolatency.js';
import { TARGETS_MAP } from '../../engine/probes/probe.js';
import { BpfObject, type BpfLink } from '../../native/index.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { requireKernel } from '../support/privileged.js';
import { sleep } from '../support/probe-cases.js';

const BLOCK = 4096;

/** A loop device over a sparse file in a temporary directory, with the I/O scheduler asked for. */
class LoopDevice {
  readonly path: string;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'loupe-loop-'));

  constructor(scheduler: 'none' | 'mq-deadline') {
    const backing = path.join(this.dir, 'disk.img');
    writeFileSync(backing, '');
    truncateSync(backing, 64 << 20);
    this.path = execFileSync('losetup', ['--find', '--show', backing], { encoding: 'utf8' }).trim();
    try {
      writeFileSync(`/sys/block/${path.basename(this.path)}/queue/scheduler`, scheduler);
    } catch (err) {
      this.remove();
      throw err;
    }
  }

  /** Write requests merged into others so far (field 6 of the disk's stat). */
  writeMerges(): number {
    return Number(readFileSync(`/sys/block/${path.basename(this.path)}/stat`, 'utf8').trim().split(/\s+/)[5]);
  }

  remove(): void {
    execFileSync('losetup', ['--detach', this.path]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A targets map entry (struct loupe_target) putting cgroupId at slot 0. */
function slot0(cgroupId: bigint): [Buffer, Buffer] {
  const key = Buffer.alloc(8);
  key.writeBigUInt64LE(cgroupId);
  const value = Buffer.alloc(16);
  value.writeBigUInt64LE(1n, 0);
  value.writeUInt32LE(0, 8);
  return [key, value];
}

/** The biolatency object loaded with one pod targeted at slot 0; programs attached by the test. */
class LoadedBiolatency {
  readonly links: BpfLink[] = [];

  private constructor(readonly obj: BpfObject) {}

  static async load(target: LocalPod): Promise<LoadedBiolatency> {
    const obj = BpfObject.open(path.join(probeObjectDirectory(), biolatency.kernel.objectFile));
    try {
      biolatency.kernel.configure?.(obj);
      await obj.loadAsync();
      obj.map(TARGETS_MAP).update(...slot0(target.cgroupId));
    } catch (err) {
      obj.close();
      throw err;
    }
    return new LoadedBiolatency(obj);
  }

  /** In-flight entries charged to slot 0 (struct biolatency_start: ns, slot, dev). */
  startsOfSlot0(): number {
    return this.obj
      .map('starts')
      .entries()
      .filter(([, value]) => value.readUInt32LE(8) === 0).length;
  }

  close(): void {
    for (const link of this.links.splice(0)) link.destroy();
    this.obj.close();
  }
}

/** `count` O_DIRECT writes of one block, one at a time, on CPU 0 (so they draw tags from one per-CPU hint). */
function directWrites(pod: LocalPod, device: string, count: number): Promise<string> {
  return pod.exec(['taskset', '-c', '0', 'dd', 'if=/dev/zero', `of=${device}`, `bs=${BLOCK}`, `count=${count}`, 'oflag=direct', 'status=none']);
}

/**
 * Submits one O_DIRECT write of a block at each block number in argv[2:] with
 * a single io_submit, which plugs the queue around a batch of more than two,
 * then waits for every completion.
 */
const AIO_WRITES = `
import ctypes, mmap, os, platform, sys
io_setup, io_submit, io_getevents = {'x86_64': (206, 209, 208), 'aarch64': (0, 2, 4)}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
class Iocb(ctypes.Structure):
    _fields_ = [('data', ctypes.c_uint64), ('key', ctypes.c_uint32), ('rw_flags', ctypes.c_int32),
                ('opcode', ctypes.c_uint16), ('reqprio', ctypes.c_int16), ('fd', ctypes.c_uint32),
                ('buf', ctypes.c_uint64), ('nbytes', ctypes.c_uint64), ('offset', ctypes.c_int64),
                ('reserved2', ctypes.c_uint64), ('flags', ctypes.c_uint32), ('resfd', ctypes.c_uint32)]
class Event(ctypes.Structure):
    _fields_ = [('data', ctypes.c_uint64), ('obj', ctypes.c_uint64), ('res', ctypes.c_int64), ('res2', ctypes.c_int64)]
def check(r, what):
    if r < 0:
        raise OSError(ctypes.get_errno(), what)
    return r
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
blocks = [int(b) for b in sys.argv[2:]]
buf = mmap.mmap(-1, ${BLOCK})
addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
ctx = ctypes.c_ulong(0)
check(libc.syscall(io_setup, len(blocks), ctypes.byref(ctx)), 'io_setup')
iocbs = [Iocb(opcode=1, fd=fd, buf=addr, nbytes=${BLOCK}, offset=b * ${BLOCK}) for b in blocks]
ptrs = (ctypes.POINTER(Iocb) * len(iocbs))(*[ctypes.pointer(c) for c in iocbs])
assert check(libc.syscall(io_submit, ctx, ctypes.c_long(len(iocbs)), ptrs), 'io_submit') == len(iocbs)
events = (Event * len(blocks))()
done = 0
while done < len(blocks):
    done += check(libc.syscall(io_getevents, ctx, ctypes.c_long(1), ctypes.c_long(len(blocks) - done), events, None), 'io_getevents')
`;

/** Runs body against a fresh loop device with the probe loaded for pods[0], then removes the device and the pods. */
async function withProbe(
  scheduler: 'none' | 'mq-deadline',
  pods: readonly LocalPod[],
  body: (probe: LoadedBiolatency, loop: LoopDevice) => Promise<void>,
): Promise<void> {
  const loop = new LoopDevice(scheduler);
  try {
    const probe = await LoadedBiolatency.load(pods[0]!);
    try {
      await body(probe, loop);
    } finally {
      probe.close();
    }
  } finally {
    loop.remove();
    for (const pod of pods) pod.remove();
  }
}

test('biolatency: a traced request merged into another and freed leaves no in-flight entry', async (t) => {
  if (!requireKernel(t)) return;
  const pod = new LocalPod();
  await withProbe('mq-deadline', [pod], async (probe, loop) => {
    probe.links.push(...biolatency.kernel.attach(probe.obj));
    // One plugged batch: no block continues the one before it, so none merges
    // into the plug's last request and each becomes a request of its own; when
    // the plug is flushed into mq-deadline, an inserted request that continues
    // one already queued is merged into it and freed, never completed. Both
    // orders the batch may be inserted in hold such a pair (1 after 0, 6 before 7).
    const merges = loop.writeMerges();
    await pod.exec(['python3', '-c', AIO_WRITES, loop.path, '0', '100', '1', '200', '7', '300', '6']);
    assert.ok(loop.writeMerges() > merges, 'the batch produced no merged request: nothing was tested');
    await sleep(100);
    assert.equal(probe.startsOfSlot0(), 0, 'the merged, freed requests left start entries behind');
  });
});

test('biolatency: untraced I/O that reuses a stale request address is not charged to the traced pod', async (t) => {
  if (!requireKernel(t)) return;
  const traced = new LocalPod();
  const untraced = new LocalPod();
  await withProbe('none', [traced, untraced], async (probe, loop) => {
    // The traced pod's requests are started with no completion program attached:
    // every one leaves a start entry, charged to the traced slot, at its
    // request's address, as a traced request freed without a completion does.
    // Sequential writes on CPU 0 walk that CPU's tag hint round the whole pool,
    // so the entries cover every request the untraced pod's writes on CPU 0 can
    // draw; those then reuse stale addresses. This proves the untraced issue
    // clears the entry; it does not reproduce how the entry went stale.
    const poolWalk = 2 * Number(readFileSync(`/sys/block/${path.basename(loop.path)}/queue/nr_requests`, 'utf8'));
    const UNTRACED_WRITES = 32;
    const TRACED_WRITES = 16;
    const startOnly = probe.obj.program('loupe_block_io_start').attach();
    await directWrites(traced, loop.path, poolWalk);
    startOnly.destroy();
    const stale = probe.startsOfSlot0();
    assert.ok(stale > 0, 'the traced writes left no start entries: nothing was tested');
    probe.links.push(...biolatency.kernel.attach(probe.obj));
    const reader = biolatency.kernel.reader(probe.obj, () => {});
    reader.collect(); // start from zero

    await directWrites(untraced, loop.path, UNTRACED_WRITES);
    await sleep(100);
    const after = reader.collect();
    assert.equal(after.get(traced.cgroupId), undefined, `untraced I/O charged to the traced pod: ${JSON.stringify(after.get(traced.cgroupId))}`);
    assert.equal(after.get(untraced.cgroupId), undefined);
    assert.ok(probe.startsOfSlot0() <= stale - UNTRACED_WRITES, 'each untraced request should have reused, and cleared, a stale entry');

    // The traced pod's own I/O at the same addresses is still counted, exactly.
    await directWrites(traced, loop.path, TRACED_WRITES);
    await sleep(100);
    const own = reader.collect().get(traced.cgroupId);
    assert.ok(own, 'no result for the traced pod');
    assert.equal(own.ios, TRACED_WRITES);
    assert.equal(own.bytesWritten, TRACED_WRITES * BLOCK);
    assert.deepEqual(own.topDevices, [{ key: path.basename(loop.path), count: TRACED_WRITES, errors: 0 }]);
  });
});
