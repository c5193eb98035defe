import { strict as assert } from 'node:assert';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { Profile } from 'pprof-format';
import { encodePprof } from '../../probes/profile/pprof.js';
import { foldedStacksOf, type FoldedStacks } from '../../probes/profile/stacks.js';
import { mergeProbeResults } from '../../api/merge.js';
import type { ProfileResult } from '../../probes/profile/profile.js';

/** The decoded profile's samples as folded stacks (root first) with their values. */
function foldedSamples(profile: Profile): Map<string, number[]> {
  const strings = profile.stringTable.strings;
  const fnName = new Map(profile.function.map((f) => [Number(f.id), strings[Number(f.name)]!]));
  const locationName = new Map(profile.location.map((l) => [Number(l.id), fnName.get(Number(l.line[0]!.functionId))!]));
  return new Map(
    profile.sample.map((s) => [
      s.locationId.map((id) => locationName.get(Number(id))!).reverse().join(';'),
      s.value.map(Number),
    ]),
  );
}

describe('pprof encoding', () => {
  const folded: FoldedStacks = {
    frequencyHz: 100,
    stacks: new Map([
      ['app;main;work;spin', { samples: 90, cpuNs: 900_000_000 }],
      ['app;main;write;ksys_write_[k]', { samples: 7, cpuNs: 70_000_000 }],
      ['app;[unknown] (libfoo.so)', { samples: 3, cpuNs: 30_000_000 }],
    ]),
  };

  it('decodes back, gunzipped, to the same stacks, counts and cpu time, with the current period', () => {
    const profile = Profile.decode(gunzipSync(encodePprof(folded, { startMs: 1_700_000_000_000, durationMs: 2000 })));
    const strings = profile.stringTable.strings;
    assert.deepEqual(
      profile.sampleType.map((t) => [strings[Number(t.type)], strings[Number(t.unit)]]),
      [['samples', 'count'], ['cpu', 'nanoseconds']],
    );
    assert.equal(Number(profile.period), 10_000_000, '100 Hz: a sample stands for 10 ms');
    assert.equal(Number(profile.durationNanos), 2e9);
    assert.equal(BigInt(profile.timeNanos), 1_700_000_000_000_000_000n);
    assert.deepEqual(
      foldedSamples(profile),
      new Map([
        ['app;main;work;spin', [90, 900_000_000]],
        ['app;main;write;ksys_write_[k]', [7, 70_000_000]],
        ['app;[unknown] (libfoo.so)', [3, 30_000_000]],
      ]),
    );
  });

  it('shares one function and location per distinct frame', () => {
    const profile = Profile.decode(gunzipSync(encodePprof(folded)));
    assert.equal(profile.function.length, 7); // app, main, work, spin, write, ksys_write_[k], [unknown] (libfoo.so)
    assert.equal(profile.location.length, 7);
  });

  it('encodes an empty profile', () => {
    const profile = Profile.decode(gunzipSync(encodePprof({ frequencyHz: 19, stacks: new Map() })));
    assert.equal(profile.sample.length, 0);
  });
});

describe('pprof CPU time over a change of sampling rate', () => {
  // What the kernel reports as each sample's period: NSEC_PER_SEC / frequency, truncated.
  const PERIOD_99_HZ = 10_101_010;
  const PERIOD_24_HZ = 41_666_666;
  /** One interval's result for a single stack, as the profile reader returns it. */
  const interval = (samples: number, periodNs: number): ProfileResult => ({
    samples,
    cpuNs: samples * periodNs,
    topFrames: [{ key: 'spin (app)', count: samples, cpuNs: samples * periodNs }],
    topStacks: [{ key: 'app;main;spin', count: samples, cpuNs: samples * periodNs }],
  });

  it('weights the samples taken at 99 Hz by 99 Hz\'s period after a budget widened the rate to 24 Hz', () => {
    // 10 s on one CPU at 99 Hz, then 10 s at 24 Hz: 20 s of CPU, not 1230 samples × 24 Hz's period.
    const accumulated = mergeProbeResults('profile', [interval(990, PERIOD_99_HZ), interval(240, PERIOD_24_HZ)]);
    const profile = Profile.decode(gunzipSync(encodePprof(foldedStacksOf([accumulated], 24))));
    assert.deepEqual(foldedSamples(profile), new Map([['app;main;spin', [1230, 990 * PERIOD_99_HZ + 240 * PERIOD_24_HZ]]]));
  });
});
