import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from '../../api/duration.js';

describe('parseDuration (the Go syntax that CEL duration() accepts)', () => {
  const valid: [string, number][] = [
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['1m30s500ms', 90_500],
    ['1500us', 1.5],
    ['0s', 0],
  ];
  for (const [text, ms] of valid) it(`${text} is ${ms}ms`, () => assert.equal(parseDuration(text), ms));

  for (const text of ['', '0', '30', '5x', 's', '1h30', 'm5', '-5s', '1 m', '5mm', '.5s', '1µs']) {
    it(`rejects ${JSON.stringify(text)}`, () => assert.equal(parseDuration(text), undefined));
  }
});
