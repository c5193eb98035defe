import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { otlpSecretCopyName, profileUidOfSecretCopy } from '../../api/otlp-secrets.js';
import { OtlpSecretCopies, SECRET_COPY_REFRESH_MS, type SecretCopyAction } from '../../operator/otlp-secret-copies.js';

/** Visits one profile as the operator does: acts, then records what it did. */
function visit(copies: OtlpSecretCopies, generation: number, wanted: boolean, nowMs: number): SecretCopyAction {
  const action = copies.next('uid-1', generation, wanted, nowMs);
  if (action !== 'none') copies.done('uid-1', generation, nowMs, action === 'copy');
  return action;
}

describe("the operator's copies of OTLP Secrets", () => {
  it('never writes for a profile that names no Secret, however often and long it is visited', () => {
    const copies = new OtlpSecretCopies(new Set(['uid-2']));
    const actions = [0, 1, 2, 10, 100].map((minutes) => visit(copies, 1, false, 1_000 + minutes * 60_000));
    assert.deepEqual(actions, ['forget', 'none', 'none', 'none', 'none']);
  });

  it('deletes, once, a copy that was there when its record began (an earlier leader wrote it)', () => {
    const copies = new OtlpSecretCopies(new Set(['uid-1']));
    const actions = [0, 1, 10].map((minutes) => visit(copies, 1, false, minutes * 60_000));
    assert.deepEqual(actions, ['delete copy', 'none', 'none']);
  });

  it('copies again when the spec changes, and every refresh period for rotated credentials', () => {
    const copies = new OtlpSecretCopies(new Set());
    assert.equal(visit(copies, 1, true, 0), 'copy');
    assert.equal(visit(copies, 1, true, SECRET_COPY_REFRESH_MS - 1), 'none');
    assert.equal(visit(copies, 2, true, SECRET_COPY_REFRESH_MS - 1), 'copy');
    assert.equal(visit(copies, 2, true, 2 * SECRET_COPY_REFRESH_MS - 1), 'copy');
  });

  it('deletes its copy once when the profile stops naming Secrets', () => {
    const copies = new OtlpSecretCopies(new Set());
    visit(copies, 1, true, 0);
    assert.equal(copies.mayExist('uid-1'), true);
    assert.equal(visit(copies, 2, false, 1_000), 'delete copy');
    assert.equal(copies.mayExist('uid-1'), false);
    assert.equal(visit(copies, 2, false, 10 * SECRET_COPY_REFRESH_MS), 'none');
    assert.equal(visit(copies, 3, false, 10 * SECRET_COPY_REFRESH_MS), 'forget');
  });

  it('retries a visit whose API calls failed (nothing recorded)', () => {
    const copies = new OtlpSecretCopies(new Set());
    assert.equal(copies.next('uid-1', 1, true, 0), 'copy');
    assert.equal(copies.next('uid-1', 1, true, 1), 'copy');
  });

  it('forgets a deleted profile: a visit after it is a first one', () => {
    const copies = new OtlpSecretCopies(new Set());
    visit(copies, 1, true, 0);
    copies.delete('uid-1');
    assert.equal(copies.mayExist('uid-1'), false);
    assert.equal(visit(copies, 1, true, 1), 'copy');
  });
});

describe('profileUidOfSecretCopy', () => {
  it('reads the profile uid back from a copy’s name, and nothing from another Secret', () => {
    assert.equal(profileUidOfSecretCopy(otlpSecretCopyName('0f3c-42')), '0f3c-42');
    assert.equal(profileUidOfSecretCopy('loupe-otlp-'), undefined);
    assert.equal(profileUidOfSecretCopy('loupe-agent-token'), undefined);
  });
});
