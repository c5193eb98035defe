// Every CO-RE relocation of every probe resolves on a real kernel of each
// architecture the probes are built for: the x86 build against this
// machine's kernel BTF, the arm64 build against the BTF of Debian's arm64
// kernel (hack/kernel-btf.sh fetches it with apt once and caches it). The
// check, hack/core-relo-check.c, resolves them as libbpf would at load time,
// without loading; a fixture of relocations no kernel can satisfy shows that
// it fails when it should.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireRunnable } from '../support/privileged.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BPF_DIR = path.join(ROOT, 'bpf');
const FIXTURE_DIR = path.join(ROOT, 'test', 'unit', 'fixtures');
const FIXTURE = 'core-relocations.bpf.c';
const FIXTURE_OBJECT = 'core-relocations.bpf.o';
const ARCHES = ['x86', 'arm64'] as const;
type Arch = (typeof ARCHES)[number];

/** One line of core-relo-check's report about a relocation. */
interface Finding {
  outcome: 'failed' | 'guarded' | 'absent';
  object: string;
  program: string;
  text: string;
}

interface Summary {
  relocations: number;
  resolved: number;
  absent: number;
  guarded: number;
  failed: number;
}

interface Report {
  status: number | null;
  findings: Finding[];
  summaries: Map<string, Summary>;
}

function parseReport(stdout: string, status: number | null): Report {
  const findings: Finding[] = [];
  const summaries = new Map<string, Summary>();
  for (const line of stdout.split('\n')) {
    const finding = /^(failed|guarded|absent) (\S+) (\S+) (.*)$/.exec(line);
    if (finding) {
      findings.push({ outcome: finding[1] as Finding['outcome'], object: finding[2]!, program: finding[3]!, text: finding[4]! });
      continue;
    }
    const summary = /^(\S+): relocations=(\d+) resolved=(\d+) absent=(\d+) guarded=(\d+) failed=(\d+)$/.exec(line);
    if (summary) {
      const [relocations, resolved, absent, guarded, failed] = summary.slice(2).map(Number) as [number, number, number, number, number];
      summaries.set(summary[1]!, { relocations, resolved, absent, guarded, failed });
    }
  }
  return { status, findings, summaries };
}

/**
 * The number of CO-RE relocation records in an object's .BTF.ext, read
 * straight from the ELF: what the check must account for, one by one.
 */
function coreRelocationRecords(elf: Buffer): number {
  const sectionHeaders = Number(elf.readBigUInt64LE(0x28));
  const headerSize = elf.readUInt16LE(0x3a);
  const sectionCount = elf.readUInt16LE(0x3c);
  const names = sectionHeaders + elf.readUInt16LE(0x3e) * headerSize;
  const namesOffset = Number(elf.readBigUInt64LE(names + 0x18));
  for (let i = 0; i < sectionCount; i++) {
    const header = sectionHeaders + i * headerSize;
    const nameStart = namesOffset + elf.readUInt32LE(header);
    const name = elf.toString('latin1', nameStart, elf.indexOf(0, nameStart));
    if (name !== '.BTF.ext') continue;
    const ext = Number(elf.readBigUInt64LE(header + 0x18));
    const headerLength = elf.readUInt32LE(ext + 4);
    if (headerLength < 32) return 0; // no CO-RE part in this .BTF.ext
    const reloStart = ext + headerLength + elf.readUInt32LE(ext + 24);
    const reloEnd = reloStart + elf.readUInt32LE(ext + 28);
    if (reloEnd === reloStart) return 0;
    const recordSize = elf.readUInt32LE(reloStart);
    let records = 0;
    for (let at = reloStart + 4; at < reloEnd; ) {
      const count = elf.readUInt32LE(at + 4);
      records += count;
      at += 8 + count * recordSize;
    }
    return records;
  }
  return 0;
}

describe('CO-RE relocations of the BPF objects on real kernels of each architecture', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'loupe-core-relo-'));
  const checker = path.join(out, 'core-relo-check');
  const builds = new Map<Arch, string>();
  after(() => rmSync(out, { recursive: true, force: true }));

  before(() => {
    const libbpf = execFileSync('pkg-config', ['--cflags', '--libs', 'libbpf'], { encoding: 'utf8' }).trim().split(/\s+/);
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', checker, path.join(ROOT, 'hack', 'core-relo-check.c'), ...libbpf], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (const arch of ARCHES) {
      const dir = path.join(out, arch);
      // The fixture is built by bpf/Makefile's own rule (VPATH finds its
      // source), so with exactly the probes' flags.
      const make = ['-s', `-j${availableParallelism()}`, '-C', BPF_DIR, `ARCH=${arch}`, `BUILD=${dir}`, `VPATH=${FIXTURE_DIR}`];
      execFileSync('make', [...make, 'all', path.join(dir, FIXTURE_OBJECT)], { stdio: ['ignore', 'ignore', 'inherit'] });
      builds.set(arch, dir);
    }
  });

  // Each architecture's kernel BTF, looked up (and fetched) once: its path, or why there is none.
  const kernels = new Map<Arch, { btf: string } | { why: string }>();
  /** The kernel BTF of an architecture, or undefined (after skipping t; throws in CI) when there is none. */
  const kernelBtf = (t: TestContext, arch: Arch): string | undefined => {
    let kernel = kernels.get(arch);
    if (!kernel) {
      const got = spawnSync(path.join(ROOT, 'hack', 'kernel-btf.sh'), [arch], { encoding: 'utf8' });
      kernel =
        got.status === 0
          ? { btf: got.stdout.trim() }
          : { why: `no ${arch} kernel BTF: ${got.stderr.trim().split('\n').at(-1) ?? `exit ${got.status}`}` };
      kernels.set(arch, kernel);
    }
    if ('btf' in kernel) return kernel.btf;
    requireRunnable(t, kernel.why);
    return undefined;
  };
  const check = (btf: string, objects: string[]): Report => {
    const run = spawnSync(checker, [btf, ...objects], { encoding: 'utf8' });
    assert.equal(run.stderr, '', 'the checker reads every object');
    return parseReport(run.stdout, run.status);
  };
  const probes = (arch: Arch): string[] => {
    const dir = builds.get(arch)!;
    return readdirSync(dir)
      .filter((f) => f.endsWith('.bpf.o') && f !== FIXTURE_OBJECT)
      .sort()
      .map((f) => path.join(dir, f));
  };

  for (const arch of ARCHES) {
    it(`every probe's relocations resolve on the ${arch} kernel`, (t) => {
      const btf = kernelBtf(t, arch);
      if (!btf) return;
      const objects = probes(arch);
      const report = check(btf, objects);
      const packageFile = path.join(path.dirname(btf), 'package'); // hack/kernel-btf.sh notes where a fetched BTF came from
      t.diagnostic(`${arch} kernel BTF: ${btf}${existsSync(packageFile) ? ` (${readFileSync(packageFile, 'utf8').trim()})` : ''}`);
      let total = 0;
      for (const object of objects) {
        const name = path.basename(object);
        const summary = report.summaries.get(object);
        assert.ok(summary, `${name}: a summary`);
        const records = coreRelocationRecords(readFileSync(object));
        t.diagnostic(
          `${arch}/${name}: ${summary.relocations} relocations, ${summary.resolved} resolved, ` +
            `${summary.absent} absent (existence checks), ${summary.guarded} guarded, ${summary.failed} failed`,
        );
        assert.equal(summary.relocations, records, `${name}: every record of .BTF.ext is checked`);
        assert.equal(summary.resolved + summary.absent + summary.guarded + summary.failed, summary.relocations);
        total += summary.relocations;
      }
      for (const f of report.findings) t.diagnostic(`${f.outcome} ${path.basename(f.object)} ${f.program} ${f.text}`);
      assert.deepEqual(
        report.findings.filter((f) => f.outcome === 'failed').map((f) => `${path.basename(f.object)} ${f.program} ${f.text}`),
        [],
        `no relocation fails on the ${arch} kernel`,
      );
      assert.equal(report.status, 0);
      assert.ok(total > 0, 'the probes have relocations to check');
    });
  }

  // Named cases of the fixture: what the check must say about each program.
  const FIXTURE_CASES: { program: string; outcome: 'failed' | 'guarded' | 'resolved'; why?: RegExp }[] = [
    { program: 'passes_present', outcome: 'resolved' },
    { program: 'passes_guarded_field', outcome: 'guarded', why: /has no member no_such_field/ },
    { program: 'passes_guarded_type', outcome: 'guarded', why: /no type of that kind and name/ },
    { program: 'passes_guarded_enum_value', outcome: 'guarded', why: /enum has no such value/ },
    { program: 'fails_missing_field', outcome: 'failed', why: /struct task_struct has no member no_such_field/ },
    { program: 'fails_missing_type', outcome: 'failed', why: /loupe_no_such_type.*no type of that kind and name/ },
    { program: 'fails_missing_enum_value', outcome: 'failed', why: /BPF_MAP_TYPE_NO_SUCH___loupe_fixture: the kernel's enum has no such value/ },
    { program: 'fails_wrong_kind', outcome: 'failed', why: /member pid: struct in the object, int on the kernel/ },
    { program: 'fails_array_bounds', outcome: 'failed', why: /index \[20\] is past the kernel's 16 elements/ },
    { program: 'fails_resized_load', outcome: 'failed', why: /8-byte load or store of a field that is 4 bytes/ },
  ];
  for (const arch of ARCHES) {
    it(`rejects the fixture's relocations that the ${arch} kernel cannot satisfy, and only those`, (t) => {
      const btf = kernelBtf(t, arch);
      if (!btf) return;
      const fixture = path.join(builds.get(arch)!, FIXTURE_OBJECT);
      const report = check(btf, [fixture]);
      const summary = report.summaries.get(fixture);
      assert.ok(summary, 'a summary');
      t.diagnostic(
        `${arch}/${path.basename(fixture)}: ${summary.relocations} relocations, ${summary.resolved} resolved, ` +
          `${summary.absent} absent, ${summary.guarded} guarded, ${summary.failed} failed`,
      );
      assert.equal(report.status, 1, 'the check fails');
      const programs = [...readFileSync(path.join(FIXTURE_DIR, FIXTURE), 'utf8').matchAll(/BPF_PROG\((\w+)/g)].map((m) => m[1]);
      assert.deepEqual(FIXTURE_CASES.map((c) => c.program).sort(), programs.sort(), 'a case per fixture program');
      for (const c of FIXTURE_CASES) {
        const found = report.findings.filter((f) => f.program === c.program && f.outcome !== 'absent');
        if (c.outcome === 'resolved') {
          assert.deepEqual(found, [], `${c.program}: everything resolves`);
          continue;
        }
        assert.ok(found.length > 0, `${c.program}: reported`);
        for (const f of found) {
          assert.equal(f.outcome, c.outcome, `${c.program}: ${f.text}`);
          assert.match(f.text, c.why!, c.program);
        }
      }
      // Each guarded read's existence check found nothing: reported as absent, not failed.
      const absent = report.findings.filter((f) => f.outcome === 'absent').map((f) => f.program).sort();
      assert.deepEqual(absent, ['passes_guarded_enum_value', 'passes_guarded_field', 'passes_guarded_type']);
    });
  }

  // The same check on real probes: the x86 build reads x86 registers
  // (pt_regs->orig_ax) that arm64's pt_regs does not have.
  it('rejects the x86 build on the arm64 kernel', (t) => {
    const btf = kernelBtf(t, 'arm64');
    if (!btf) return;
    const report = check(btf, probes('x86'));
    const failed = report.findings.filter((f) => f.outcome === 'failed');
    for (const f of failed) t.diagnostic(`${path.basename(f.object)} ${f.program} ${f.text}`);
    assert.equal(report.status, 1);
    assert.ok(failed.some((f) => /struct pt_regs has no member orig_ax/.test(f.text)));
  });
});
