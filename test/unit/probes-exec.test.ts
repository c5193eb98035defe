import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  EXEC_EVENT_SIZE,
  ExecAggregator,
  decodeExecEvent,
  execEventAttributes,
  exitCodeOf,
} from '../../probes/exec/decode.js';

interface RawExecEvent {
  cgroupId: bigint;
  kind: 1 | 2;
  pid?: number;
  filename?: string;
  exitStatus?: number;
}

/** Lays out a struct exec_event as probes/exec/exec.h does. */
function execEvent(e: RawExecEvent): Buffer {
  const buf = Buffer.alloc(EXEC_EVENT_SIZE);
  buf.writeBigUInt64LE(e.cgroupId, 0);
  buf.writeBigUInt64LE(0b101n, 8);
  buf.writeBigUInt64LE(123_456_789n, 16);
  buf.writeUInt32LE(e.kind, 24);
  buf.writeUInt32LE(e.pid ?? 4242, 28);
  buf.writeUInt32LE(1, 32);
  buf.writeUInt32LE(e.exitStatus ?? 0, 36);
  buf.write('true', 40, 'utf8');
  buf.write(e.filename ?? '', 56, 'utf8');
  return buf;
}

describe('exec event decoding', () => {
  it('reads every field at the offsets of struct exec_event', () => {
    const e = decodeExecEvent(execEvent({ cgroupId: 77n, kind: 1, pid: 99, filename: '/bin/true' }));
    assert.deepEqual(e, {
      cgroupId: 77n,
      profiles: 0b101n,
      timeNs: 123_456_789n,
      kind: 'exec',
      pid: 99,
      ppid: 1,
      exitStatus: 0,
      comm: 'true',
      filename: '/bin/true',
    });
  });

  it('stops strings at the first NUL even when bytes follow it', () => {
    const buf = execEvent({ cgroupId: 1n, kind: 1, filename: '/bin/sh' });
    buf.write('garbage', 56 + 8, 'utf8');
    assert.equal(decodeExecEvent(buf).filename, '/bin/sh');
  });

  it('keeps a filename that fills the whole field', () => {
    const long = `/${'x'.repeat(255)}`;
    assert.equal(decodeExecEvent(execEvent({ cgroupId: 1n, kind: 1, filename: long })).filename, long);
  });

  it('rejects a kind the kernel side does not define', () => {
    const buf = execEvent({ cgroupId: 1n, kind: 1 });
    buf.writeUInt32LE(7, 24);
    assert.throws(() => decodeExecEvent(buf));
  });

  it('rejects a short record and says how to fix it', () => {
    assert.throws(() => decodeExecEvent(Buffer.alloc(100)), /expected 312.*make -C bpf/);
  });

  it('reads exit codes and deaths by signal from the wait status', () => {
    assert.equal(exitCodeOf(3 << 8), 3);
    assert.equal(exitCodeOf(0), 0);
    assert.equal(exitCodeOf(9), 137);
    const exit = decodeExecEvent(execEvent({ cgroupId: 1n, kind: 2, exitStatus: 1 << 8 }));
    assert.equal(execEventAttributes(exit)['process.exit.code'], 1);
    assert.equal(execEventAttributes(exit)['process.executable.path'], undefined);
  });
});

describe('exec aggregation', () => {
  it('counts execs, exits and commands per cgroup, and drains', () => {
    const agg = new ExecAggregator();
    const add = (raw: RawExecEvent, times: number) => {
      for (let i = 0; i < times; i++) agg.add(decodeExecEvent(execEvent(raw)));
    };
    add({ cgroupId: 10n, kind: 1, filename: '/bin/true' }, 37);
    add({ cgroupId: 10n, kind: 1, filename: '/bin/sh' }, 2);
    add({ cgroupId: 10n, kind: 2 }, 38);
    add({ cgroupId: 20n, kind: 1, filename: '/bin/true' }, 11);

    const results = agg.drain();
    assert.deepEqual(results.get(10n), {
      execs: 39,
      exits: 38,
      topCommands: [
        { key: '/bin/true', count: 37 },
        { key: '/bin/sh', count: 2 },
      ],
    });
    assert.deepEqual(results.get(20n), { execs: 11, exits: 0, topCommands: [{ key: '/bin/true', count: 11 }] });
    assert.equal(results.size, 2);
    assert.equal(agg.drain().size, 0, 'a second drain has nothing new');
  });
});
