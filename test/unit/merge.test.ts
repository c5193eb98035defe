import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramFromCounts, summarizeLatency } from '../../api/histogram.js';
import { emptyProbeResult, mergeProbeResults, mergeResultSets } from '../../api/merge.js';
import { boundTop, foldTop, mergeTop } from '../../api/top-list.js';
import { withTopLists } from '../../api/merge.js';
import type { ProfileResult } from '../../probes/profile/profile.js';
import type { SyscallsResult } from '../../probes/syscalls/syscalls.js';
import type { TcpResult } from '../../probes/tcp/tcp.js';

describe('top lists', () => {
  it('sums count and errors per key and re-ranks', () => {
    const merged = mergeTop(
      [{ key: 'read', count: 5, errors: 1 }, { key: 'write', count: 3 }],
      [{ key: 'write', count: 4, errors: 2 }, { key: 'open', count: 6 }],
    );
    assert.deepEqual(merged, [
      { key: 'write', count: 7, errors: 2 },
      { key: 'open', count: 6 },
      { key: 'read', count: 5, errors: 1 },
    ]);
  });

  it('ranks ties by errors, then key', () => {
    assert.deepEqual(
      mergeTop([{ key: 'b', count: 1 }, { key: 'a', count: 1 }, { key: 'c', count: 1, errors: 1 }]).map((e) => e.key),
      ['c', 'a', 'b'],
    );
  });

  it('boundTop keeps the n highest', () => {
    const list = [{ key: 'x', count: 1 }, { key: 'y', count: 9 }, { key: 'z', count: 5 }];
    assert.deepEqual(boundTop(list, 2), [{ key: 'y', count: 9 }, { key: 'z', count: 5 }]);
    assert.deepEqual(boundTop(list, 0), []);
    assert.equal(list[0]?.key, 'x', 'the input is not reordered');
  });

  it('foldTop keeps totals in one (other) entry, and leaves short lists alone', () => {
    const list = [1, 2, 3, 4, 5].map((n) => ({ key: `k${n}`, count: n, errors: n % 2 }));
    const folded = foldTop(list, 3);
    assert.deepEqual(folded, [
      { key: 'k5', count: 5, errors: 1 },
      { key: 'k4', count: 4, errors: 0 },
      { key: '(other)', count: 6, errors: 2 },
    ]);
    assert.deepEqual(foldTop(folded, 3), folded, 'folding again changes nothing');
    assert.deepEqual(foldTop(list.slice(0, 2), 3).map((e) => e.key), ['k2', 'k1']);
  });
});

describe('probe results', () => {
  it('sums exec counts', () => {
    const r = mergeProbeResults('exec', [
      { execs: 2, exits: 1, topCommands: [{ key: '/bin/true', count: 2 }] },
      { execs: 3, exits: 3, topCommands: [{ key: '/bin/true', count: 1 }, { key: '/bin/sh', count: 2 }] },
    ]);
    assert.deepEqual(r, {
      execs: 5,
      exits: 4,
      topCommands: [{ key: '/bin/true', count: 3 }, { key: '/bin/sh', count: 2 }],
    });
  });

  it('merges histograms and recomputes percentiles instead of averaging them', () => {
    const fast: SyscallsResult = {
      calls: 100,
      errors: 1,
      latencyNs: summarizeLatency(histogramFromCounts(0, [0, 0, 0, 0, 100])), // (8, 16]
      topSyscalls: [{ key: 'read', count: 100 }],
    };
    const slow: SyscallsResult = {
      calls: 100,
      errors: 0,
      latencyNs: summarizeLatency(histogramFromCounts(0, [...Array(20).fill(0), 100])), // (2^19, 2^20]
      topSyscalls: [{ key: 'futex', count: 100 }],
    };
    const r = mergeProbeResults('syscalls', [fast, slow]);
    assert.equal(r.calls, 200);
    assert.equal(r.errors, 1);
    assert.equal(r.latencyNs.count, 200);
    assert.deepEqual(r.latencyNs.histogram.buckets[4], 100);
    assert.deepEqual(r.latencyNs.histogram.buckets[20], 100);
    assert.ok(r.latencyNs.p50! <= 16, `p50 ${r.latencyNs.p50} is in the fast half`);
    assert.ok(r.latencyNs.p90! > 2 ** 19, `p90 ${r.latencyNs.p90} is in the slow half`);
  });

  it('sums every tcp counter', () => {
    const one: TcpResult = {
      ...emptyProbeResult('tcp'),
      connects: 1, connectFailures: 2, accepts: 3, closed: 4, bytesSent: 5, bytesReceived: 6, retransmits: 7,
      topPeers: [{ key: '10.0.0.1:443', count: 1, errors: 2 }],
    };
    const r = mergeProbeResults('tcp', [one, one]);
    assert.deepEqual(
      [r.connects, r.connectFailures, r.accepts, r.closed, r.bytesSent, r.bytesReceived, r.retransmits],
      [2, 4, 6, 8, 10, 12, 14],
    );
    assert.deepEqual(r.topPeers, [{ key: '10.0.0.1:443', count: 2, errors: 4 }]);
    assert.equal(r.durationNs.count, 0);
  });

  it('has a zero result per probe', () => {
    assert.deepEqual(emptyProbeResult('files'), { opens: 0, errors: 0, topPaths: [] });
    assert.deepEqual(emptyProbeResult('syscalls').latencyNs, { count: 0, histogram: { zeroCount: 0, buckets: [] } });
  });

  it('cuts a result’s top list without touching the rest', () => {
    const r = { opens: 3, errors: 0, topPaths: [{ key: '/a', count: 2 }, { key: '/b', count: 1 }] };
    assert.deepEqual(withTopLists('files', r, (l) => boundTop(l, 1)), { opens: 3, errors: 0, topPaths: [{ key: '/a', count: 2 }] });
    assert.equal(r.topPaths.length, 2);
  });

  it('merges whole result sets probe by probe, keeping probes no set has absent', () => {
    const merged = mergeResultSets(
      [{ exec: { execs: 1, exits: 0, topCommands: [] } }, { exec: { execs: 2, exits: 1, topCommands: [] }, files: { opens: 4, errors: 1, topPaths: [] } }],
      10,
    );
    assert.deepEqual(merged, {
      exec: { execs: 3, exits: 1, topCommands: [] },
      files: { opens: 4, errors: 1, topPaths: [] },
    });
  });
});

describe('profile results sampled at different rates', () => {
  const PERIOD_99_HZ = 10_101_010;
  const PERIOD_24_HZ = 41_666_666;
  const nodeAt = (periodNs: number, stack: string, samples: number): ProfileResult => ({
    samples,
    cpuNs: samples * periodNs,
    topFrames: [{ key: `${stack} (app)`, count: samples, cpuNs: samples * periodNs }],
    topStacks: [{ key: `app;${stack}`, count: samples, cpuNs: samples * periodNs }],
  });

  it('sums CPU time across nodes and ranks stacks by it, not by samples taken at different rates', () => {
    const at99Hz = nodeAt(PERIOD_99_HZ, 'parse', 500); // 5.05 s
    const at24Hz = nodeAt(PERIOD_24_HZ, 'compress', 240); // 10 s
    const merged = mergeResultSets([{ profile: at99Hz }, { profile: at24Hz }], 10).profile!;
    assert.equal(merged.cpuNs, 500 * PERIOD_99_HZ + 240 * PERIOD_24_HZ);
    assert.equal(merged.samples, 740, 'samples stay a count');
    assert.deepEqual(merged.topStacks, [
      { key: 'app;compress', count: 240, cpuNs: 240 * PERIOD_24_HZ },
      { key: 'app;parse', count: 500, cpuNs: 500 * PERIOD_99_HZ },
    ]);
    assert.deepEqual(
      merged.topFrames.map((e) => e.key),
      ['compress (app)', 'parse (app)'],
    );
  });

  it('leaves CPU time out when a node reported none (an agent from before it), rather than mixing rates', () => {
    const { cpuNs: _, ...old } = nodeAt(PERIOD_24_HZ, 'compress', 240);
    const merged = mergeProbeResults('profile', [nodeAt(PERIOD_99_HZ, 'parse', 500), old]);
    assert.equal(merged.cpuNs, undefined);
    assert.equal(merged.samples, 740);
  });
});
