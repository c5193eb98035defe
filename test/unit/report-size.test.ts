// The report of a 10-minute profile of 20 pods with every probe, every top
// list full and every timeline column busy, after the operator has fitted
// its status to the byte budget: the HTML must stay under 2 MB.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { it } from 'node:test';
import { summarizeLatency } from '../../api/histogram.js';
import type { ProbeResults } from '../../api/results.js';
import { fitStatusToBudget } from '../../api/status-budget.js';
import { TIMELINE_COLUMNS, type Timeline } from '../../api/timeline.js';
import { MAX_TOP_N } from '../../api/top-list.js';
import type { TraceProfileStatus } from '../../api/traceprofile.js';
import { resultMembers } from '../../probes/probe-descriptor.js';
import { PROBES } from '../../probes/registry.js';
import { reportHtml } from '../../report/report-html.js';
import { reportFromTraceProfile } from '../../report/report-source.js';
import { reportView } from '../../report/report-view.js';

const SLOTS = 25;
const FIRST_SLOT = 8;
const histogram = () => ({ zeroCount: 0, buckets: Array.from({ length: FIRST_SLOT + SLOTS }, (_, i) => (i < FIRST_SLOT ? 0 : 1000 + i)) });

/** Every member of every probe at its largest: counts, full histograms, top lists of MAX_TOP_N long keys with every detail. */
function fullResults(probes: readonly Probe[]): ProbeResults {
  const results: Record<string, Record<string, unknown>> = {};
  for (const probe of probes) {
    const result: Record<string, unknown> = {};
    for (const member of resultMembers(probe.result)) {
      if (member.kind === 'count') result[member.name] = 123_456_789;
      if (member.kind === 'latency') result[member.name] = summarizeLatency(histogram());
      if (member.kind === 'top') {
        result[member.name] = Array.from({ length: MAX_TOP_N }, (_, i) => ({
          key: `${'frame;'.repeat(40)}key-${i}`.slice(0, 256),
          count: 1_000_000 - i,
          errors: i,
          cpuNs: 9_000_000_000 - i,
          latencyNs: histogram(),
        }));
      }
    }
    results[probe.name] = result;
  }
  return results as ProbeResults;
}

function fullTimeline(probes: readonly Probe[]): Timeline {
  const latency = probes.flatMap((p) => resultMembers(p.result).filter((m) => m.kind === 'latency').map((m) => ({ probe: p.name, member: m.name })));
  const counts = probes.flatMap((p) => resultMembers(p.result).filter((m) => m.kind === 'count').map((m) => ({ probe: p.name, member: m.name })));
  return {
    startedAt: '2026-12-07T10:00:00.000Z',
    columnSeconds: 10,
    columns: TIMELINE_COLUMNS,
    latency: latency.map((s) => ({ ...s, first: FIRST_SLOT, columns: Array.from({ length: TIMELINE_COLUMNS }, () => histogram().buckets.slice(FIRST_SLOT + 1)) })),
    counts: counts.map((s) => ({ ...s, columns: Array.from({ length: TIMELINE_COLUMNS }, (_, i) => 1_000_000 + i) })),
  };
}

type Probe = (typeof PROBES)[number];

const cases = [
  { name: 'every probe', probes: PROBES, columnsKept: 15 },
  { name: 'the sample profile (exec, tcp, syscalls, profile)', probes: PROBES.filter((p) => ['exec', 'tcp', 'syscalls', 'profile'].includes(p.name)), columnsKept: TIMELINE_COLUMNS },
];

for (const c of cases) {
  it(`a 10-minute profile of 20 pods with ${c.name} makes a report under 2 MB`, (t) => {
    const results = fullResults(c.probes);
    const status: TraceProfileStatus = fitStatusToBudget({
      phase: 'Completed',
      startedAt: '2026-12-07T10:00:00Z',
      expiresAt: '2026-12-07T10:10:00Z',
      results,
      pods: Array.from({ length: 20 }, (_, i) => ({ namespace: 'shop', name: `checkout-${i}`, node: `node-${i}`, containers: ['app'], results })),
      timeline: fullTimeline(c.probes),
    });
    const profile = {
      apiVersion: 'loupe.dev/v1alpha1',
      kind: 'TraceProfile',
      metadata: { name: 'checkout', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'checkout' } }, probes: c.probes.map((p) => ({ name: p.name })), duration: '10m' },
      status,
    };
    const html = reportHtml(reportView(reportFromTraceProfile(profile), new Date()));
    const bytes = Buffer.byteLength(html);
    t.diagnostic(`report: ${bytes} bytes; status: ${Buffer.byteLength(JSON.stringify(status))} bytes, timeline ${status.timeline?.columns} columns, ${status.pods?.length} pods`);
    assert.ok(bytes < 2 * 1024 * 1024, `${bytes} bytes`);
    // The budget coarsens the heat maps only as far as it must, and never below 15 columns.
    assert.equal(status.timeline?.columns, c.columnsKept);
  });
}
