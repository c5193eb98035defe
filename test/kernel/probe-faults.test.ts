// Faults a real node can have, each set up for real in a child's own mount
// namespace (test/support/tracefs.ts): no kernel BTF, a missing capability, a
// hook this kernel lacks. Each fails only the probes it must, with a
// NodeTracePlan entry that names the probe, the cause and the fix, while the
// other probes load and count.
import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { probeCatalog } from '../../engine/probes/catalog.js';
import type { NodeProfileStatus } from '../../api/nodetraceplan.js';
import { requireKernel } from '../support/privileged.js';
import { runWithoutTracefs, type IsolatedChildOptions } from '../support/tracefs.js';

const CHILD = fileURLToPath(new URL('./fixtures/probe-loading-child.ts', import.meta.url));
const EVERY_PROBE = Object.keys(probeCatalog).sort();

interface ChildReport {
  active: string[];
  failed: Array<{ probe: string; message: string; verifierLog?: string }>;
  execs: number;
  status: NodeProfileStatus;
}

async function loadProbes(options: IsolatedChildOptions, missingHook?: string): Promise<ChildReport> {
  const outcome = await runWithoutTracefs(CHILD, ['probes', ...(missingHook === undefined ? [] : [missingHook])], options);
  assert.equal(outcome.code, 0, `the child failed: ${outcome.stderr}`);
  return JSON.parse(outcome.stdout.trim().split('\n').at(-1) ?? '') as ChildReport;
}

const cases: {
  name: string;
  options: IsolatedChildOptions;
  missingHook?: string;
  failed: string[];
  message: RegExp;
}[] = [
  {
    name: 'a node without kernel BTF: every probe that reads kernel types fails, naming BTF; profile still samples',
    options: { prepare: 'mount -t tmpfs -o ro none /sys/kernel/btf' },
    failed: EVERY_PROBE.filter((probe) => probe !== 'profile'),
    message: /^the kernel has no BTF \(\/sys\/kernel\/btf\/vmlinux is missing\).*Fix: .*CONFIG_DEBUG_INFO_BTF=y/,
  },
  {
    name: 'an agent without CAP_NET_ADMIN (nor SYS_ADMIN): the cgroup_skb probes (dns, netbytes) fail, naming the capabilities',
    options: { wrapper: ['setpriv', '--bounding-set', '-net_admin,-sys_admin', '--inh-caps', '-net_admin,-sys_admin'] },
    failed: ['dns', 'netbytes'],
    message: /^the agent lacks a privilege the kernel asks for\. Fix: grant the agent CAP_BPF, CAP_PERFMON/,
  },
  {
    name: 'a kernel without a probe\'s hook: that probe fails, naming the hook',
    options: {},
    missingHook: 'oomkill',
    failed: ['oomkill'],
    message: /^this kernel has no hook loupe_no_such_tracepoint: .*Fix: drop this probe/,
  },
];

for (const c of cases) {
  test(c.name, async (t) => {
    if (!requireKernel(t)) return;
    const report = await loadProbes(c.options, c.missingHook);
    assert.deepEqual(report.failed.map((f) => f.probe).sort(), c.failed);
    for (const failure of report.failed) {
      assert.match(failure.message, c.message);
      assert.doesNotMatch(failure.message, /verifier/i, 'no verifier ran');
      assert.equal(failure.verifierLog, undefined);
    }
    const working = EVERY_PROBE.filter((p) => !c.failed.includes(p));
    assert.deepEqual(report.active, working, 'the other probes load');
    if (working.includes('exec')) assert.equal(report.execs, 3, 'and count');

    // What the node reports for the profile.
    assert.equal(report.status.state, working.length > 0 ? 'Running' : 'Failed');
    assert.deepEqual(report.status.probesLoaded, working);
    const named = (report.status.errors ?? []).filter((e) => e.probe !== undefined);
    assert.equal(named.length, c.failed.length <= 8 ? c.failed.length : 7, 'status keeps 8 errors, the last one counting the rest');
    for (const error of named) {
      assert.ok(c.failed.includes(error.probe ?? ''));
      assert.match(error.message, c.message);
    }
  });
}
