import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from '../../agent/duration.js';

describe('parseDuration (Go syntax)', () => {
  const valid: [string, number][] = [
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['1m30s500ms', 90_500],
    ['.5s', 500],
    ['1500us', 1.5],
    ['0', 0],
    ['0s', 0],
  ];
  for (const [text, ms] of valid) it(`${text} is ${ms}ms`, () => assert.equal(parseDuration(text), ms));

  for (const text of ['', '30', '5x', 's', '1h30', 'm5', '-5s', '1 m', '5mm']) {
    it(`rejects ${JSON.stringify(text)} with the accepted form`, () => {
      assert.throws(() => parseDuration(text), {
        message: `invalid duration ${JSON.stringify(text)}: use a number and a unit (h, m, s, ms), e.g. 30s, 5m, 1h30m`,
      });
    });
  }
});
