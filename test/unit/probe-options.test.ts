// Per-profile probe options: the user-space filters (files.pathPrefixes,
// syscalls.only), their validation, the kernel-side settings they need (which
// syscalls get their own histogram, the shared sampling rate), and the
// `loupe trace` flags that set them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HISTOGRAM_BUCKETS, histogramCount, histogramFromCounts, summarizeLatency } from '../../api/histogram.js';
import type { FilesResult } from '../../probes/files/files.js';
import { probeCatalog } from '../../engine/probes/catalog.js';
import { filesForProfile } from '../../probes/files/kernel.js';
import { samplingFrequencyHz } from '../../probes/profile/kernel.js';
import {
  LATENCY_SIZE,
  SyscallsDeltas,
  decodeLatency,
  markedSyscalls,
  syscallNumber,
  syscallsForProfile,
  syscallsOptionsError,
  type Count,
  type Latency,
  type SyscallsDelta,
  type Totals,
} from '../../probes/syscalls/kernel.js';
import { parseTraceOptions, traceProbeSpecs, UsageError } from '../../cli/trace/trace-options.js';

const GETPPID = 110;
const CLOSE = 3;

/** Log2 slots with these counts: {10: 5} is 5 calls in (512, 1024] ns. */
function slots(counts: Record<number, number>): number[] {
  const out = new Array<number>(HISTOGRAM_BUCKETS).fill(0);
  for (const [k, c] of Object.entries(counts)) out[Number(k)] = c;
  return out;
}

function syscallsDelta(): SyscallsDelta {
  return {
    calls: 12,
    errors: 3,
    latencyNs: summarizeLatency(histogramFromCounts(1, slots({ 10: 5, 12: 4, 20: 2 }))),
    topSyscalls: [
      { key: 'getppid', count: 5, errors: 0 },
      { key: 'read', count: 4, errors: 1 },
      { key: 'close', count: 3, errors: 2 },
    ],
    latencyBySyscall: new Map([
      ['getppid', histogramFromCounts(0, slots({ 10: 5 }))],
      ['close', histogramFromCounts(1, slots({ 20: 2 }))],
    ]),
  };
}

function filesDelta(): FilesResult {
  return {
    opens: 9,
    errors: 3,
    topPaths: [
      { key: '/etc/hostname', count: 4, errors: 0 },
      { key: '/tmp/run-1/a', count: 3, errors: 1 },
      { key: '/tmp/run-10/b', count: 1, errors: 1 },
      { key: 'relative/path', count: 1, errors: 1 },
    ],
  };
}

describe('syscallsOptionsError', () => {
  it('names an unknown syscall and the table it was looked up in', () => {
    assert.equal(
      syscallsOptionsError({ name: 'syscalls', only: ['read', 'foo', 'bar'] }),
      'syscalls.only: unknown syscall "foo" on this node (x86_64)',
    );
  });

  it('names a syscall that admission accepted but this node\'s architecture lacks', () => {
    assert.equal(syscallsOptionsError({ name: 'syscalls', only: ['openat', 'open'] }, 'arm64'), 'syscalls.only: unknown syscall "open" on this node (arm64)');
    assert.equal(syscallsOptionsError({ name: 'syscalls', only: ['openat', 'open'] }, 'x86_64'), undefined);
  });

  it('accepts known syscalls and no filter; other probes have no node-side check', () => {
    assert.equal(syscallsOptionsError({ name: 'syscalls', only: ['read', 'openat', 'getppid', 'file_setattr'] }), undefined);
    assert.equal(syscallsOptionsError({ name: 'syscalls' }), undefined);
    assert.equal(probeCatalog.files.optionsError, undefined, 'files serves any prefix on any node');
  });
});

describe('syscalls.only', () => {
  it('keeps only the named syscalls: counts, errors, top list, and their own latency', () => {
    const r = syscallsForProfile({ name: 'syscalls', only: ['close', 'getppid'] }, syscallsDelta());
    assert.ok(r);
    assert.equal(r.calls, 8);
    assert.equal(r.errors, 2);
    assert.deepEqual(r.topSyscalls.map((e) => e.key), ['getppid', 'close']);
    assert.deepEqual(r.latencyNs.histogram, histogramFromCounts(1, slots({ 10: 5, 20: 2 })));
    assert.equal(r.latencyNs.count, 8, 'histogram count = calls');
    assert.equal('latencyBySyscall' in r, false);
  });

  it('passes everything, without the internal histograms, when the profile has no filter', () => {
    const delta = syscallsDelta();
    const r = probeCatalog.syscalls.forProfile?.({ name: 'syscalls' }, delta);
    const { latencyBySyscall: _internal, ...expected } = delta;
    assert.deepEqual(r, expected);
  });

  it('gives nothing when none of the named syscalls happened', () => {
    assert.equal(syscallsForProfile({ name: 'syscalls', only: ['openat'] }, syscallsDelta()), undefined);
  });
});

describe('files.pathPrefixes', () => {
  it('keeps paths under any prefix and recomputes opens and errors from them', () => {
    const r = filesForProfile({ name: 'files', pathPrefixes: ['/tmp/run-1/', '/etc/host'] }, filesDelta());
    assert.deepEqual(r, {
      opens: 7,
      errors: 1,
      topPaths: [
        { key: '/etc/hostname', count: 4, errors: 0 },
        { key: '/tmp/run-1/a', count: 3, errors: 1 },
      ],
    });
  });

  it('is a plain string prefix: /tmp/run-1 also matches /tmp/run-10', () => {
    assert.equal(filesForProfile({ name: 'files', pathPrefixes: ['/tmp/run-1'] }, filesDelta())?.opens, 4);
  });

  it('passes everything without a filter, and nothing when no path matches', () => {
    assert.deepEqual(probeCatalog.files.forProfile?.({ name: 'files' }, filesDelta()), filesDelta());
    assert.equal(filesForProfile({ name: 'files', pathPrefixes: ['/var'] }, filesDelta()), undefined);
  });

  it('leaves other probes’ results alone: only syscalls, files and http filter per profile', () => {
    const filtering = Object.entries(probeCatalog).filter(([, kernel]) => kernel.forProfile !== undefined).map(([name]) => name);
    assert.deepEqual(filtering.sort(), ['files', 'http', 'syscalls']);
  });
});

describe('per-syscall latency in the syscalls reader', () => {
  const totals = (zero: number, latency: Record<number, number>): Totals => ({
    errors: 0n,
    zero: BigInt(zero),
    latency: slots(latency).map(BigInt),
  });
  const latency = (zero: number, counts: Record<number, number>): Latency => ({ zero: BigInt(zero), latency: slots(counts).map(BigInt) });
  const count = (calls: number): Count => ({ calls: BigInt(calls), errors: 0n });

  it('decodes struct syscalls_latency at its offsets', () => {
    const buf = Buffer.alloc(LATENCY_SIZE);
    buf.writeBigUInt64LE(4n, 0);
    buf.writeBigUInt64LE(9n, 8 + 8 * 10);
    buf.writeBigUInt64LE(1n, 8 + 8 * 63);
    assert.deepEqual(decodeLatency(buf), latency(4, { 10: 9, 63: 1 }));
  });

  it('turns cumulative per-syscall histograms into deltas, by syscall name', () => {
    const deltas = new SyscallsDeltas();
    const snapshot = (t: Totals, counts: [number, Count][], latencies: [number, Latency][]) => ({
      cgroupBySlot: new Map([[0, 42n]]),
      totals: new Map([[0, t]]),
      counts: new Map([[0, new Map(counts)]]),
      latencies: new Map([[0, new Map(latencies)]]),
    });
    const first = deltas.next(snapshot(totals(0, { 10: 5, 12: 1 }), [[GETPPID, count(5)], [CLOSE, count(1)]], [[GETPPID, latency(0, { 10: 5 })]]));
    assert.deepEqual(first.get(42n)?.latencyBySyscall, new Map([['getppid', histogramFromCounts(0, slots({ 10: 5 }))]]));
    const second = deltas.next(
      snapshot(totals(1, { 10: 8, 12: 1 }), [[GETPPID, count(9)], [CLOSE, count(1)]], [[GETPPID, latency(1, { 10: 8 })]]),
    );
    const h = second.get(42n)?.latencyBySyscall?.get('getppid');
    assert.ok(h);
    assert.equal(histogramCount(h), 4, 'only what happened since the first read');
    assert.deepEqual(h, histogramFromCounts(1, slots({ 10: 3 })));
    const idle = deltas.next(snapshot(totals(1, { 10: 8, 12: 2 }), [[GETPPID, count(9)], [CLOSE, count(2)]], [[GETPPID, latency(1, { 10: 8 })]]));
    assert.equal(idle.get(42n)?.latencyBySyscall, undefined, 'a syscall that did not run has no histogram');
  });

  it('marks the union of the known syscalls the profiles filter on', () => {
    assert.equal(syscallNumber('getppid'), GETPPID);
    assert.equal(syscallNumber('nosuchcall'), undefined);
    const marked = markedSyscalls([{ name: 'syscalls', only: ['getppid', 'nosuchcall'] }, { name: 'syscalls' }, { name: 'syscalls', only: ['close'] }]);
    assert.deepEqual([...marked].sort((a, b) => a - b), [CLOSE, GETPPID]);
  });
});

describe('the profile probe’s one sampling rate', () => {
  it('is the highest any profile asks for, a profile without one counting as the default', () => {
    assert.equal(samplingFrequencyHz([], 19), 19);
    assert.equal(samplingFrequencyHz([{ name: 'profile', frequency: 5 }], 19), 5);
    assert.equal(samplingFrequencyHz([{ name: 'profile', frequency: 5 }, { name: 'profile' }], 19), 19);
    assert.equal(samplingFrequencyHz([{ name: 'profile', frequency: 99 }, { name: 'profile' }], 19), 99);
  });
});

describe('loupe trace --syscalls, --path-prefix and --profile-frequency', () => {
  it('give the syscalls, files and profile probes their options', () => {
    const o = parseTraceOptions([
      '--pid', '1', '--probes', 'exec,syscalls,files,profile', '--syscalls', 'read, getppid', '--path-prefix', '/etc', '--path-prefix', '/tmp/x',
      '--profile-frequency', '99',
    ]);
    assert.deepEqual(traceProbeSpecs(o), [
      { name: 'exec' },
      { name: 'syscalls', only: ['read', 'getppid'] },
      { name: 'files', pathPrefixes: ['/etc', '/tmp/x'] },
      { name: 'profile', frequency: 99 },
    ]);
    assert.deepEqual(traceProbeSpecs(parseTraceOptions(['--pid', '1', '--probes', 'syscalls'])), [{ name: 'syscalls' }]);
  });

  const bad: [string[], string][] = [
    [['--syscalls', 'read,nosuchcall'], 'unknown syscall "nosuchcall"; names are Linux\'s on x86_64 or arm64, e.g. openat'],
    [['--syscalls', 'Read'], 'unknown syscall "Read"; names are Linux\'s on x86_64 or arm64, e.g. openat'],
    [['--path-prefix', 'etc'], 'path prefixes are absolute paths, e.g. /etc'],
    [['--probes', 'exec', '--syscalls', 'read'], '--syscalls filters the syscalls probe: add it to --probes'],
    [['--probes', 'exec', '--path-prefix', '/etc'], '--path-prefix filters the files probe: add it to --probes'],
    [['--probes', 'exec', '--profile-frequency', '99'], '--profile-frequency sets the profile probe\'s rate: add it to --probes'],
    [['--probes', 'profile', '--profile-frequency', '1000'], '--profile-frequency "1000": expected a whole number from 1 to 999'],
  ];
  for (const [args, message] of bad) {
    it(`rejects ${args.join(' ')}`, () => {
      assert.throws(() => parseTraceOptions(['--pid', '1', ...args]), (err: Error) => err instanceof UsageError && err.message === message);
    });
  }
});
