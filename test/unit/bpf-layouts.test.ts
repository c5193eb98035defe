// The C <-> TypeScript contract: every layout.generated.ts (one per probe,
// beside its header; engine/probes/layouts.generated.ts for bpf/loupe.h) is
// what hack/gen-layouts.ts makes from the BTF of bpf/contract.c as the
// headers are now, the contract holds every struct the headers declare, a
// drifted struct is told apart, and decodeStruct reads every member as its
// BTF types it (width, sign, string, array), refusing a record of another size.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeStruct } from '../../engine/probes/kernel-decode.js';
import { layouts as profileLayouts } from '../../probes/profile/layout.generated.js';
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
    assert.deepEqual(got.fields.comm, { offset: 16, size: 32, type: 'chars' });
  });

  it('decodes every member as its BTF type says, and refuses a record of another size', () => {
    const event = layouts.exec_event;
    const buf = Buffer.alloc(event.size);
    buf.writeBigUInt64LE(123n, event.fields.cgroup_id.offset);
    buf.writeUInt32LE(4242, event.fields.pid.offset);
    buf.write('true\0', event.fields.comm.offset, 'latin1');
    const decoded = decodeStruct(buf, event);
    assert.equal(decoded.cgroupId, 123n, 'members by their C names in camelCase');
    assert.equal(decoded.pid, 4242);
    assert.equal(decoded.comm, 'true');
    assert.throws(() => decodeStruct(buf.subarray(1), event), /struct exec_event: got \d+ bytes, expected \d+/);

    const key = profileLayouts.profile_key;
    const keyBuf = Buffer.alloc(key.size);
    keyBuf.writeInt32LE(-14, key.fields.user_stack_id.offset); // -EFAULT: a signed member stays negative
    assert.equal(decodeStruct(keyBuf, key).userStackId, -14);
  });
});
