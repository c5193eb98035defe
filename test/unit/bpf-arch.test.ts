// The probes (probes/<name>/<name>.bpf.c) compile for every architecture the project names (x86 and
// arm64), each against its own kernel types (bpf/arch/<arch>/vmlinux.h) and
// syscall numbers (bpf/syscall_arch.h), with warnings as errors, and the
// probes that pick syscalls by number use that architecture's numbers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BPF_DIR = fileURLToPath(new URL('../../bpf', import.meta.url));
const PROBES_DIR = fileURLToPath(new URL('../../probes', import.meta.url));
const EM_BPF = 247;

describe('BPF objects per architecture', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'loupe-bpf-arch-'));
  after(() => rmSync(out, { recursive: true, force: true }));
  const build = (arch: string): string => {
    const dir = path.join(out, arch);
    execFileSync('make', ['-s', '-C', BPF_DIR, `ARCH=${arch}`, `BUILD=${dir}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    return dir;
  };
  const objects = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.bpf.o')).sort();
  // The probes' own (probes/<name>/<name>.bpf.c) and the benchmark fixtures of bpf/.
  const probeDirs = readdirSync(PROBES_DIR, { withFileTypes: true }).filter((d) => d.isDirectory());
  const sources = [BPF_DIR, ...probeDirs.map((d) => path.join(PROBES_DIR, d.name))]
    .flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.bpf.c')))
    .map((f) => f.replace(/\.c$/, '.o'))
    .sort();

  it('builds every probe for x86 and arm64, as BPF ELF objects', () => {
    for (const arch of ['x86', 'arm64']) {
      const dir = build(arch);
      assert.deepEqual(objects(dir), sources, `${arch}: one object per probe source`);
      for (const object of objects(dir)) {
        const elf = readFileSync(path.join(dir, object));
        assert.equal(elf.subarray(0, 4).toString('latin1'), '\x7fELF');
        assert.equal(elf.readUInt16LE(18), EM_BPF, `${arch}/${object} is a BPF object`);
      }
    }
  });

  // The numbers each program compares the syscall id with (`if rN == K`).
  const comparedNumbers = (object: string): Set<number> => {
    const text = execFileSync('llvm-objdump', ['-d', '--no-show-raw-insn', object], { encoding: 'utf8' });
    return new Set([...text.matchAll(/if r\d+ [!=]= (\d+) goto/g)].map((m) => Number(m[1])));
  };
  const cases = [
    { object: 'files.bpf.o', x86: [2, 257, 437], arm64: [56, 437], notArm64: [2, 257] }, // open, openat, openat2
    { object: 'tcp.bpf.o', x86: [43, 288], arm64: [202, 242], notArm64: [43, 288] }, // accept, accept4
  ];
  for (const c of cases) {
    it(`${c.object} picks syscalls by each architecture's numbers`, () => {
      const x86 = comparedNumbers(path.join(out, 'x86', c.object));
      const arm64 = comparedNumbers(path.join(out, 'arm64', c.object));
      for (const nr of c.x86) assert.ok(x86.has(nr), `x86 compares with ${nr}`);
      for (const nr of c.arm64) assert.ok(arm64.has(nr), `arm64 compares with ${nr}`);
      for (const nr of c.notArm64) assert.ok(!arm64.has(nr), `arm64 never compares with x86's ${nr}`);
    });
  }
});
