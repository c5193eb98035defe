// `loupe trace` as a user runs it: a real process tracing kubelet-shaped
// cgroups with real execs, ended by SIGINT, SIGTERM, its duration or an
// error, with exact counts in its one JSON document and nothing left in the
// kernel afterwards.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROBE_NAMES } from '../../probes/registry.js';
import { probeObjectDirectory } from '../../engine/probe-objects.js';
import { kernelTestBlocker, requireKernel } from '../support/privileged.js';
import { remainingAfterRelease } from '../support/bpf-handles.js';
import { startTrace } from '../support/trace-process.js';
import { LocalPod } from '../../hack/local-cluster/local-pod.js';
import { curl, selfSignedCertificate, startHttpServer } from '../support/app-workloads.js';

interface TraceDocument {
  endedBy: string;
  probes: string[];
  failed: { probe: string; message: string }[];
  totals: {
    exec?: { execs: number; exits: number; topCommands: { key: string; count: number }[] };
    http?: { topSeries: { key: string; count: number }[] };
    tls?: { topSeries: { key: string; count: number }[] };
  };
  targets: { target: string; cgroupId: string; results: { exec?: { execs: number } } }[];
}

describe('loupe trace on the kernel', () => {
  const pods: LocalPod[] = [];
  before(() => {
    if (kernelTestBlocker() === undefined) for (let i = 0; i < 3; i++) pods.push(new LocalPod());
  });
  after(() => pods.forEach((p) => p.remove()));

  const endings = [
    { signal: 'SIGINT', probes: ['--probes', 'exec'] },
    { signal: 'SIGTERM', probes: [] }, // every probe
  ] as const;
  for (const { signal, probes } of endings) {
    it(`ends on ${signal} with exact counts in one JSON document, leaving nothing attached (${probes[1] ?? 'all probes'})`, async (t) => {
      if (!requireKernel(t)) return;
      const [A, B, C] = pods as [LocalPod, LocalPod, LocalPod];
      const run = await startTrace(['--container', A.containerRef, '--cgroup', B.dir, ...probes, '--output', 'json', '--interval', '200ms']);
      if (probes.length > 0) assert.equal(run.held.linkIds.length, 2, 'exec attached');
      else assert.ok(run.held.linkIds.length > 2, `every probe attached: ${run.held.linkIds.length} links`);
      await A.execTimes(3);
      await B.execTimes(2);
      await C.execTimes(4); // not a target
      run.signal(signal);
      const r = await run.exited;
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as TraceDocument; // the whole of stdout is one document
      assert.equal(doc.endedBy, signal);
      assert.deepEqual(doc.probes, probes.length > 0 ? ['exec'] : [...PROBE_NAMES]);
      assert.deepEqual(doc.failed, []);
      assert.equal(doc.totals.exec?.execs, 5);
      assert.deepEqual(doc.totals.exec?.topCommands, [{ key: '/bin/true', count: 5 }]);
      assert.deepEqual(
        doc.targets.map((x) => [x.target, x.cgroupId, x.results.exec?.execs]),
        [
          [`container ${A.containerId.slice(0, 12)}`, String(A.cgroupId), 3],
          [`cgroup ${B.dir}`, String(B.cgroupId), 2],
        ],
      );
      assert.deepEqual(await remainingAfterRelease(run.held), { progIds: [], linkIds: [] });
    });
  }

  it('ends after --duration with a text report', async (t) => {
    if (!requireKernel(t)) return;
    const [A] = pods as [LocalPod];
    const sleeper = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(path.join(A.dir, 'cgroup.procs'), String(sleeper.pid));
      const run = await startTrace(['--pid', String(sleeper.pid), '--probes', 'exec', '--duration', '2s']);
      await A.execTimes(7);
      const r = await run.exited;
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^loupe trace: \ds, ended by duration, 1 target\(s\)\n/);
      assert.match(r.stdout, /^exec {6}7 execs, 8 exits$/m, 'the shell that ran them exits too');
      assert.match(r.stdout, /^ {4}\/bin\/true {2} +7$/m);
      assert.deepEqual(await remainingAfterRelease(run.held), { progIds: [], linkIds: [] });
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => sleeper.once('exit', resolve));
    }
  });

  it('counts HTTP requests and HTTPS requests as served and made, with their routes, in its report', async (t) => {
    if (!requireKernel(t)) return;
    const [A, B] = pods as [LocalPod, LocalPod];
    const dir = mkdtempSync(path.join(tmpdir(), 'loupe-trace-http-'));
    try {
      const { cert, key } = selfSignedCertificate(dir);
      const plain = await startHttpServer(A, []);
      const https = await startHttpServer(A, [cert, key]);
      const run = await startTrace(['--cgroup', A.dir, '--cgroup', B.dir, '--probes', 'http,tls', '--output', 'json', '--interval', '200ms']);
      assert.deepEqual((await curl(B, `http://127.0.0.1:${plain.port}`, ['/ok/1', '/ok/2', '/missing'])).statuses, [200, 200, 404]);
      assert.deepEqual((await curl(B, `https://127.0.0.1:${https.port}`, ['/ok/3'])).statuses, [200]);
      run.signal('SIGINT');
      const r = await run.exited;
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as TraceDocument;
      const series = (probe: 'http' | 'tls') => Object.fromEntries((doc.totals[probe]?.topSeries ?? []).map((e) => [e.key, e.count]));
      assert.deepEqual(series('http'), {
        [`server GET 200 ${plain.port} /ok/{id}`]: 2,
        [`client GET 200 ${plain.port} /ok/{id}`]: 2,
        [`server GET 404 ${plain.port} /missing`]: 1,
        [`client GET 404 ${plain.port} /missing`]: 1,
      });
      assert.deepEqual(series('tls'), { 'server GET 200 0 /ok/{id}': 1, 'client GET 200 0 /ok/{id}': 1 });
      assert.deepEqual(await remainingAfterRelease(run.held), { progIds: [], linkIds: [] });
    } finally {
      await A.killAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the probes that load and reports the one that does not', async (t) => {
    if (!requireKernel(t)) return;
    const [A] = pods as [LocalPod];
    const dir = mkdtempSync(path.join(tmpdir(), 'loupe-bpf-'));
    try {
      copyFileSync(path.join(probeObjectDirectory(), 'exec.bpf.o'), path.join(dir, 'exec.bpf.o'));
      writeFileSync(path.join(dir, 'files.bpf.o'), 'not an ELF object');
      const run = await startTrace(['--container', A.containerId, '--probes', 'exec,files', '--output', 'json'], { LOUPE_BPF_DIR: dir });
      await A.execTimes(1);
      run.signal('SIGINT');
      const r = await run.exited;
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as TraceDocument;
      assert.deepEqual(doc.probes, ['exec']);
      assert.deepEqual(doc.failed.map((f) => f.probe), ['files']);
      assert.match(doc.failed[0]!.message, /ELF/);
      assert.equal(doc.totals.exec?.execs, 1);
      assert.deepEqual(await remainingAfterRelease(run.held), { progIds: [], linkIds: [] });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('fails in one line, with nothing attached, when no probe loads', async (t) => {
    if (!requireKernel(t)) return;
    const [A] = pods as [LocalPod];
    const dir = mkdtempSync(path.join(tmpdir(), 'loupe-bpf-'));
    try {
      writeFileSync(path.join(dir, 'exec.bpf.o'), 'not an ELF object');
      const run = await startTrace(['--cgroup', A.dir, '--probes', 'exec'], { LOUPE_BPF_DIR: dir });
      const r = await run.exited;
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^loupe trace: no probe could be loaded \(exec: .*ELF.*\)$/m);
      assert.deepEqual(run.held, { progIds: [], linkIds: [] });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('leaves nothing in the kernel even when killed with SIGKILL (no pinning)', async (t) => {
    if (!requireKernel(t)) return;
    const [A] = pods as [LocalPod];
    const run = await startTrace(['--cgroup', A.dir, '--probes', 'exec']);
    assert.ok(run.held.progIds.length > 0);
    run.signal('SIGKILL');
    await run.exited;
    assert.deepEqual(await remainingAfterRelease(run.held), { progIds: [], linkIds: [] });
  });
});
