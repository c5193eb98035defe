import { strict as assert } from 'node:assert';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { Profile } from 'pprof-format';
import { encodePprof } from '../../agent/pprof.js';
import type { FoldedStacks } from '../../agent/probes/profile-stacks.js';

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
      ['app;main;work;spin', 90],
      ['app;main;write;ksys_write_[k]', 7],
      ['app;[unknown] (libfoo.so)', 3],
    ]),
  };

  it('decodes back, gunzipped, to the same stacks and counts, with cpu time from the period', () => {
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
