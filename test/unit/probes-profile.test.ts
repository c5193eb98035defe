import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { Profile } from 'pprof-format';
import { createProfileDownloadHandler } from '../../probes/profile/download.js';
import { createProfileProbe, parseCpuList } from '../../probes/profile/kernel.js';
import {
  PROFILE_KEY_SIZE,
  PROFILE_MAX_DEPTH,
  decodeProfileKey,
  decodeStack,
  stackIdLost,
} from '../../probes/profile/decode.js';
import {
  MAX_FOLDED_STACK_CHARS,
  ProfileAggregator,
  foldStack,
  foldedStacksOf,
  formatFolded,
  type FoldedStacks,
} from '../../probes/profile/stacks.js';
import type { Frame } from '../../engine/symbolize/symbolizer.js';

const user = (name: string, module = 'app'): Frame => ({ name, module, kernel: false });
const kernel = (name: string): Frame => ({ name, module: 'kernel', kernel: true });

describe('profile map decoding', () => {
  it('reads struct profile_key at its offsets', () => {
    const buf = Buffer.alloc(PROFILE_KEY_SIZE);
    buf.writeBigUInt64LE(77n, 0);
    buf.writeUInt32LE(4242, 8);
    buf.writeInt32LE(5, 12);
    buf.writeInt32LE(-14, 16);
    buf.write('spinner', 24);
    assert.deepEqual(decodeProfileKey(buf), { cgroupId: 77n, tgid: 4242, userStackId: 5, kernelStackId: -14, comm: 'spinner' });
    assert.throws(() => decodeProfileKey(Buffer.alloc(32)), /expected 40/);
  });

  it('reads a stack up to its first zero address', () => {
    const buf = Buffer.alloc(PROFILE_MAX_DEPTH * 8);
    buf.writeBigUInt64LE(0x401000n, 0);
    buf.writeBigUInt64LE(0x402000n, 8);
    assert.deepEqual(decodeStack(buf), [0x401000n, 0x402000n]);
  });

  it('tells a missing stack (-EFAULT) from a lost one', () => {
    assert.equal(stackIdLost(3), false);
    assert.equal(stackIdLost(-14), false);
    assert.equal(stackIdLost(-17), true, '-EEXIST: a hash collision in the stack map');
    assert.equal(stackIdLost(-12), true, '-ENOMEM: the stack map is full');
  });
});

describe('folded stacks', () => {
  it('puts the command first, then user and kernel frames outermost first', () => {
    assert.equal(
      foldStack('app', [user('leaf_fn'), user('main'), user('_start')], [kernel('do_syscall_64'), kernel('entry_SYSCALL_64')]),
      'app;_start;main;leaf_fn;entry_SYSCALL_64_[k];do_syscall_64_[k]',
    );
  });

  it('names the module of frames without a symbol, and keeps ; out of frames', () => {
    assert.equal(foldStack('a;b', [user('[unknown]', 'libfoo.so'), user('x;y')], []), 'a:b;x:y;[unknown] (libfoo.so)');
  });

  it('drops frames at the root of a stack that is too long, keeping the leaf', () => {
    const frames = Array.from({ length: 60 }, (_, i) => user(`function_${i}`));
    const folded = foldStack('app', frames, []);
    assert.ok(folded.length <= MAX_FOLDED_STACK_CHARS);
    assert.ok(folded.startsWith('…;'));
    assert.ok(folded.endsWith(';function_1;function_0'));
    assert.equal(foldStack('app', [user('x'.repeat(400))], []).length, MAX_FOLDED_STACK_CHARS);
  });

  it('aggregates samples per cgroup into samples, CPU time, leaf frames and stacks', () => {
    const agg = new ProfileAggregator();
    agg.add({ cgroupId: 1n, leaf: user('spin'), folded: 'app;main;spin', count: 10, cpuNs: 100 });
    agg.add({ cgroupId: 1n, leaf: user('spin'), folded: 'app;other;spin', count: 5, cpuNs: 50 });
    agg.add({ cgroupId: 1n, leaf: kernel('clear_page'), folded: 'app;main;clear_page_[k]', count: 2, cpuNs: 20 });
    agg.add({ cgroupId: 2n, leaf: user('idle'), folded: 'b;idle', count: 1, cpuNs: 10 });
    const results = agg.drain();
    assert.deepEqual(results.get(1n), {
      samples: 17,
      cpuNs: 170,
      topFrames: [{ key: 'spin (app)', count: 15, cpuNs: 150 }, { key: 'clear_page (kernel)', count: 2, cpuNs: 20 }],
      topStacks: [
        { key: 'app;main;spin', count: 10, cpuNs: 100 },
        { key: 'app;other;spin', count: 5, cpuNs: 50 },
        { key: 'app;main;clear_page_[k]', count: 2, cpuNs: 20 },
      ],
    });
    assert.equal(results.get(2n)?.samples, 1);
    assert.equal(agg.drain().size, 0, 'drained');
  });

  it('ranks stacks by CPU time: fewer samples at a lower rate can be more time', () => {
    const agg = new ProfileAggregator();
    agg.add({ cgroupId: 1n, leaf: user('parse'), folded: 'app;parse', count: 50, cpuNs: 50 * 10_101_010 }); // 99 Hz
    agg.add({ cgroupId: 1n, leaf: user('zip'), folded: 'app;zip', count: 24, cpuNs: 24 * 41_666_666 }); // 24 Hz
    assert.deepEqual(agg.drain().get(1n)?.topStacks.map((e) => e.key), ['app;zip', 'app;parse']);
  });

  it('sums the stacks of several cgroups and prints them busiest first', () => {
    const stacks = foldedStacksOf(
      [
        { samples: 3, cpuNs: 30, topFrames: [], topStacks: [{ key: 'a;x', count: 3, cpuNs: 30 }] },
        { samples: 5, cpuNs: 90, topFrames: [], topStacks: [{ key: 'a;x', count: 1, cpuNs: 10 }, { key: 'b;y', count: 4, cpuNs: 80 }] },
      ],
      49,
    );
    assert.equal(stacks.frequencyHz, 49);
    assert.deepEqual(stacks.stacks.get('a;x'), { samples: 4, cpuNs: 40 });
    assert.equal(formatFolded(stacks), 'b;y 4\na;x 4\n', 'by CPU time');
  });

  it('times stacks without cpuNs (an older agent\'s baseline) at the current frequency', () => {
    const stacks = foldedStacksOf([{ samples: 2, topFrames: [], topStacks: [{ key: 'a;x', count: 2 }] }], 100);
    assert.deepEqual(stacks.stacks.get('a;x'), { samples: 2, cpuNs: 20_000_000 });
  });
});

describe('profile probe definition', () => {
  it('parses CPU lists', () => {
    assert.deepEqual(parseCpuList('0-3,6,8-9\n'), [0, 1, 2, 3, 6, 8, 9]);
    assert.deepEqual(parseCpuList('0\n'), [0]);
  });

  it('samples at 19 Hz unless told otherwise, at most 999 Hz', () => {
    assert.equal(createProfileProbe().frequencyHz, 19);
    assert.equal(createProfileProbe(999).frequencyHz, 999);
    assert.throws(() => createProfileProbe(1000), RangeError);
    assert.throws(() => createProfileProbe(0), RangeError);
  });
});

describe('profile download', () => {
  const stacks: FoldedStacks = { frequencyHz: 99, stacks: new Map([['app;main;spin', { samples: 42, cpuNs: 42 * 10_101_010 }]]) };
  let server: Server;
  let base: string;

  before(async () => {
    server = createServer(createProfileDownloadHandler((uid) => (uid === 'abc-123' ? stacks : undefined)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => server.close());

  it('serves folded text', async () => {
    const res = await fetch(`${base}/profiles/abc-123.folded`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'app;main;spin 42\n');
  });

  it('serves gzipped pprof', async () => {
    const res = await fetch(`${base}/profiles/abc-123.pb.gz`);
    assert.equal(res.status, 200);
    const profile = Profile.decode(gunzipSync(Buffer.from(await res.arrayBuffer())));
    assert.deepEqual(profile.sample.map((s) => s.value.map(Number)), [[42, 42 * Math.round(1e9 / 99)]]);
    assert.ok(profile.stringTable.strings.includes('spin'));
  });

  it('answers 404 for unknown profiles and paths, 405 for other methods', async () => {
    assert.equal((await fetch(`${base}/profiles/nope.folded`)).status, 404);
    assert.equal((await fetch(`${base}/profiles/abc-123.json`)).status, 404);
    assert.equal((await fetch(`${base}/profiles/abc-123.folded`, { method: 'POST' })).status, 405);
  });
});
