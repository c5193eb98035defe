// Probe failures explain themselves: cause and fix ahead of libbpf's message,
// and the word "verifier" only for a verifier rejection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { probeFailure, verifierLogExcerpt } from '../../engine/probe-failure.js';
import { BpfError, TracefsUnavailableError } from '../../native/index.js';

const BTF_PRESENT = '/proc/self/status'; // any file that exists
const BTF_ABSENT = '/nonexistent/vmlinux';

describe('probeFailure', () => {
  const cases = [
    {
      name: 'a tp_btf hook this kernel lacks (load fails finding its BTF type)',
      err: new BpfError("loading object 'exec': ESRCH (No such process): prog 'loupe_exec': failed to find kernel BTF type ID of 'sched_process_exec': -3", 3, 'ESRCH', undefined, 'libbpf: ...'),
      btf: BTF_PRESENT,
      message: /^this kernel has no hook sched_process_exec: .*Fix: drop this probe .*\(loading object 'exec'/,
    },
    {
      name: 'an attach point this kernel lacks',
      err: new BpfError("attaching program 'loupe_x' by its section 'tp_btf/no_such_hook': ENOENT (No such file or directory)", 2, 'ENOENT'),
      btf: BTF_PRESENT,
      message: /^this kernel has no hook tp_btf\/no_such_hook: /,
    },
    {
      name: 'a missing capability',
      err: new BpfError("loading object 'tcp': EPERM (Operation not permitted)", 1, 'EPERM'),
      btf: BTF_PRESENT,
      message: /^the agent lacks a privilege .*Fix: grant the agent CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN/,
    },
    {
      name: 'a kernel without BTF',
      err: new BpfError("loading object 'exec': ESRCH (No such process): failed to find valid kernel BTF", 3, 'ESRCH'),
      btf: BTF_ABSENT,
      message: /^the kernel has no BTF \(\/nonexistent\/vmlinux is missing\).*CONFIG_DEBUG_INFO_BTF=y/,
    },
    {
      name: 'tracefs that may not be mounted',
      err: new TracefsUnavailableError(new BpfError('mounting tracefs at /sys/kernel/tracing: EPERM (Operation not permitted)', 1, 'EPERM')),
      btf: BTF_PRESENT,
      message: /^tracefs is not mounted at \/sys\/kernel\/tracing and mounting it failed \(EPERM\): mount it on the node with `mount -t tracefs nodev \/sys\/kernel\/tracing`/,
    },
    {
      name: 'something else keeps its own message',
      err: new Error('probe nope is not in this agent\'s catalog'),
      btf: BTF_PRESENT,
      message: /^probe nope is not in this agent's catalog$/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const failure = probeFailure('exec', c.err, c.btf);
      assert.match(failure.message, c.message);
      assert.doesNotMatch(failure.message, /verifier/i);
      assert.equal(failure.verifierLog, undefined);
    });
  }

  it('a verifier rejection says so, names the program and keeps the last lines before the statistics', () => {
    const path = Array.from({ length: 40 }, (_, i) => `${i}: (b7) r${i % 10} = ${i}`);
    const log = [...path, "R1 invalid mem access 'scalar'", 'processed 41 insns (limit 1000000) max_states_per_insn 0 total_states 2 peak_states 2 mark_read 1', '', ''].join('\n');
    const err = new BpfError("loading BPF object 'files': EACCES (Permission denied): the verifier rejected program 'loupe_open': R1 invalid mem access 'scalar'", 13, 'EACCES', log, undefined, 'loupe_open');
    const failure = probeFailure('files', err, BTF_PRESENT);
    assert.match(failure.message, /^the kernel's verifier rejected a program of this probe/);
    assert.equal(failure.program, 'loupe_open');
    const lines = failure.verifierLog?.split('\n') ?? [];
    assert.equal(lines.length, 12);
    assert.equal(lines.at(-1), "R1 invalid mem access 'scalar'");
    assert.equal(lines[0], '29: (b7) r9 = 29');
  });

  it('keeps a verifier excerpt within its size when its lines are long', () => {
    const log = `${'x'.repeat(10_000)}\nR1 invalid mem access 'scalar'\nverification time 12 usec\nstack depth 8\n`;
    const excerpt = verifierLogExcerpt(log);
    assert.equal(excerpt.length, 2000);
    assert.ok(excerpt.endsWith("\nR1 invalid mem access 'scalar'"));
  });
});
