// The per-architecture syscall tables and the names admission accepts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KNOWN_SYSCALL_NAMES, SYSCALL_ARCHES, SYSCALL_TABLES } from '../../probes/syscalls/syscall-names.js';

describe('syscall tables', () => {
  it('names arm64 numbers as asm-generic/unistd.h does', () => {
    const arm64 = SYSCALL_TABLES.arm64;
    assert.equal(arm64.get(56), 'openat');
    assert.equal(arm64.get(63), 'read');
    assert.equal(arm64.get(221), 'execve');
    assert.equal(arm64.get(79), 'newfstatat');
    assert.equal(arm64.get(435), 'clone3');
    assert.equal(arm64.get(469), 'file_setattr');
    assert.ok(![...arm64.values()].includes('open'), 'arm64 has openat alone');
  });

  it('has one number per name on each architecture', () => {
    for (const arch of SYSCALL_ARCHES) {
      const names = [...SYSCALL_TABLES[arch].values()];
      assert.equal(new Set(names).size, names.length, arch);
    }
  });

  it('accepts at admission the union of every architecture, sorted', () => {
    for (const arch of SYSCALL_ARCHES) for (const name of SYSCALL_TABLES[arch].values()) assert.ok(KNOWN_SYSCALL_NAMES.includes(name), `${arch}: ${name}`);
    assert.deepEqual(KNOWN_SYSCALL_NAMES, [...new Set(KNOWN_SYSCALL_NAMES)].sort());
    assert.ok(KNOWN_SYSCALL_NAMES.includes('open'));
  });
});
