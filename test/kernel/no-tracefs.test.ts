// What a fresh machine sees: no tracefs and no debugfs mounted. Every probe
// of the catalog attaches and counts there without mounting anything (they use
// tp_btf, raw_tp, perf events and cgroup hooks), a tracefs-backed tracepoint
// makes the loader mount tracefs itself, and one that may not mount it gets an
// error that says what is missing and how to fix it. Each case runs in a child
// in its own mount namespace (test/support/tracefs.ts), whatever this machine
// has mounted.
import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { probeCatalog } from '../../engine/probes/catalog.js';
import { requireKernel } from '../support/privileged.js';
import { runWithoutTracefs, type ChildOutcome } from '../support/tracefs.js';

const CHILD = fileURLToPath(new URL('./fixtures/probe-loading-child.ts', import.meta.url));

interface ChildReport {
  before: string[];
  after: string[];
  active?: string[];
  failed?: Array<{ probe: string; message: string }>;
  execs?: number;
  getppids?: number;
  error?: { name: string; message: string };
}

function reportOf(outcome: ChildOutcome): ChildReport {
  assert.equal(outcome.code, 0, `the child failed: ${outcome.stderr}`);
  const line = outcome.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as ChildReport;
}

test('every probe attaches and counts with no tracefs or debugfs mounted, and mounts nothing', async (t) => {
  if (!requireKernel(t)) return;
  const report = reportOf(await runWithoutTracefs(CHILD, ['probes']));
  assert.deepEqual(report.before, [], 'the child starts with no tracing filesystem');
  assert.deepEqual(report.failed, []);
  assert.deepEqual(report.active, Object.keys(probeCatalog).sort());
  assert.equal(report.execs, 3, 'the exec probe counted the pod\'s three execs');
  assert.deepEqual(report.after, [], 'no probe needed tracefs');
});

test('a tracefs-backed tracepoint mounts tracefs itself when it is missing', async (t) => {
  if (!requireKernel(t)) return;
  const report = reportOf(await runWithoutTracefs(CHILD, ['tracepoint']));
  assert.equal(report.error, undefined);
  assert.deepEqual(report.before, []);
  assert.deepEqual(report.after, ['/sys/kernel/tracing']);
  assert.equal(report.getppids, 5);
});

test('without CAP_SYS_ADMIN to mount it, the error names tracefs and the fix', async (t) => {
  if (!requireKernel(t)) return;
  const dropSysAdmin = ['setpriv', '--bounding-set', '-sys_admin', '--inh-caps', '-sys_admin'];
  const report = reportOf(await runWithoutTracefs(CHILD, ['tracepoint'], { wrapper: dropSysAdmin }));
  assert.deepEqual(report.after, [], 'nothing was mounted');
  assert.equal(report.error?.name, 'TracefsUnavailableError');
  assert.match(report.error?.message ?? '', /tracefs is not mounted at \/sys\/kernel\/tracing and mounting it failed \(EPERM\)/);
  assert.match(report.error?.message ?? '', /mount -t tracefs nodev \/sys\/kernel\/tracing/);
  assert.doesNotMatch(report.error?.message ?? '', /verifier/);
});
