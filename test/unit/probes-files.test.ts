import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  FILE_COUNTS_SIZE,
  FILE_KEY_SIZE,
  UNREADABLE_PATH,
  decodeFileKey,
  filesResults,
} from '../../probes/files/decode.js';

function fileKey(cgroupId: bigint, path: string): Buffer {
  const buf = Buffer.alloc(FILE_KEY_SIZE);
  buf.writeBigUInt64LE(cgroupId, 0);
  buf.write(path, 8, 'utf8');
  return buf;
}

function fileCounts(opens: number, errors: number): Buffer {
  const buf = Buffer.alloc(FILE_COUNTS_SIZE);
  buf.writeBigUInt64LE(BigInt(opens), 0);
  buf.writeBigUInt64LE(BigInt(errors), 8);
  return buf;
}

function cgroupKey(cgroupId: bigint): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(cgroupId, 0);
  return buf;
}

describe('files decoding', () => {
  it('reads the cgroup id and the NUL-padded path of struct file_key', () => {
    assert.deepEqual(decodeFileKey(fileKey(5n, '/etc/hosts')), { cgroupId: 5n, path: '/etc/hosts' });
  });

  it('names opens whose path the kernel could not read', () => {
    assert.equal(decodeFileKey(fileKey(5n, '')).path, UNREADABLE_PATH);
  });

  it('rejects counters with more errors than opens', () => {
    assert.throws(() => filesResults([[fileKey(1n, '/x'), fileCounts(1, 2)]], []));
  });
});

describe('files aggregation', () => {
  it('sums paths per cgroup, ranks them, and adds dropped opens to the totals only', () => {
    const results = filesResults(
      [
        [fileKey(1n, '/etc/hosts'), fileCounts(3, 0)],
        [fileKey(1n, '/missing'), fileCounts(5, 5)],
        [fileKey(2n, '/etc/hosts'), fileCounts(1, 0)],
      ],
      [[cgroupKey(1n), fileCounts(10, 4)]],
    );
    assert.deepEqual(results.get(1n), {
      opens: 18,
      errors: 9,
      topPaths: [
        { key: '/missing', count: 5, errors: 5 },
        { key: '/etc/hosts', count: 3, errors: 0 },
      ],
    });
    assert.deepEqual(results.get(2n), { opens: 1, errors: 0, topPaths: [{ key: '/etc/hosts', count: 1, errors: 0 }] });
  });

  it('reports a cgroup whose every open was dropped', () => {
    const results = filesResults([], [[cgroupKey(3n), fileCounts(2, 1)]]);
    assert.deepEqual(results.get(3n), { opens: 2, errors: 1, topPaths: [] });
  });
});
