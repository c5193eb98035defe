// The C <-> TypeScript contract: every layout.generated.ts (one per probe,
// beside its header; engine/probes/layouts.generated.ts for bpf/loupe.h) is
// what hack/gen-layouts.ts makes from the BTF of bpf/contract.c as the
// headers are now, the contract holds every struct the headers declare, a
// drifted struct is told apart, and a decoder reading a member at a width C
// no longer has throws instead of misreading.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readU32, readU64 } from '../../engine/probes/kernel-decode.js';
import { layouts } from '../../probes/exec/layout.generated.js';
import { contractHeaders, layoutFiles, layoutsFromObject, structsDeclaredIn } from '../../hack/gen-layouts.js';

const BPF_DIR = fileURLToPath(new URL('../../bpf', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/drifted-contract.bpf.c', import.meta.url));

describe('the C <-> TypeScript layout contract', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'loupe-layouts-'));
  after(() => rmSync(out, { recursive: true, force: true }));
  const contract = path.join(out, 'contract.o');
  execFileSync('make', ['-s', '-C', BPF_DIR, `BUILD=${out}`, contract], { stdio: ['ignore', 'ignore', 'pipe'] });

  it('every layout.generated.ts is what the headers give now (npm run layouts)', () => {
    const files = layoutFiles(layoutsFromObject(contract));
    assert.ok(files.length >= 10, `${files.length} generated files: loupe.h and one per probe`);
    for (const file of files) assert.equal(readFileSync(file.path, 'utf8'), file.source, `${file.path} is stale: run npm run layouts`);
  });

  it('the contract holds exactly the named structs the headers declare', () => {
    const declared = contractHeaders().flatMap(({ header }) => structsDeclaredIn(header));
    assert.ok(declared.includes('loupe_target') && declared.includes('exec_event'));
    assert.deepEqual(Object.keys(layoutsFromObject(contract)).sort(), declared.sort());
  });

  it('tells a drifted struct apart', () => {
    const drifted = path.join(out, 'drifted.bpf.o');
    execFileSync('clang', ['-target', 'bpf', '-O2', '-g', '-I', path.join(BPF_DIR, 'arch', 'x86'), '-c', FIXTURE, '-o', drifted]);
    const got = layoutsFromObject(drifted).exec_event;
    assert.ok(got);
    assert.notEqual(got.size, layouts.exec_event.size);
    assert.deepEqual(got.fields.comm, { offset: 16, size: 32, elementSize: 1 });
  });

  it('a reader of the wrong width throws instead of misreading', () => {
    const buf = Buffer.alloc(layouts.exec_event.size);
    assert.equal(readU32(buf, layouts.exec_event.fields.pid), 0);
    assert.throws(() => readU64(buf, layouts.exec_event.fields.pid), /is 4 bytes, its reader expects 8/);
  });
});
