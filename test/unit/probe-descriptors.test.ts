// Each probe is one descriptor (probes/<name>/<name>.ts) that the generic
// code reads: every descriptor is complete and consistent with itself, and
// the generic layers name no probe, so a new probe is its folder and one
// registry entry.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ProbeSpecSchema } from '../../api/probes.js';
import { ProbeResultsSchema } from '../../api/results.js';
import { probeCatalog } from '../../engine/probes/catalog.js';
import { z } from 'zod';
import { LatencySummarySchema, summarizeLatency, histogramFromCounts } from '../../api/histogram.js';
import { topListSchema } from '../../api/top-list.js';
import { count, mergeBySchema, type ProbeDescriptor } from '../../probes/probe-descriptor.js';
import { PROBE_NAMES, PROBES } from '../../probes/registry.js';

/** The layers that merge, rank, budget, phrase, export and attribute cost for every probe. */
const GENERIC_FILES = [
  'api/activity.ts',
  'api/merge.ts',
  'api/probes.ts',
  'api/results.ts',
  'api/status-budget.ts',
  'api/top-list.ts',
  'api/probe-format.ts',
  'operator/headline.ts',
  'operator/profile-results.ts',
  'agent/profile-summary.ts',
  'agent/result-baseline.ts',
  'cli/trace/report.ts',
  'cli/trace/report-text.ts',
  'agent/otlp/metrics.ts',
  'engine/cost/probe-events.ts',
  'engine/cost/attribution.ts',
  'agent/budget.ts',
  'agent/node-agent.ts',
  'engine/probes/catalog.ts',
  'engine/probe-manager.ts',
];

/**
 * A probe's name as code names it: a string literal, a property read or a
 * table entry (`'tcp'`, `results.tcp`, `tcp: (r) =>`); not the word
 * "profile" of a TraceProfile (`this.profile(…)`, `profile: Profile`).
 */
const namedIn = (source: string, probe: string): boolean =>
  new RegExp(`['"\`]${probe}['"\`]|(?<!this)(?<=[\\w\\]])\\.${probe}\\b(?!\\()|\\b${probe}: \\(`).test(source);

describe('probe descriptors', () => {
  it('registers every probe once, by a unique name', () => {
    assert.equal(new Set(PROBE_NAMES).size, PROBES.length);
    assert.ok(PROBES.length >= 9);
  });

  // Each as the generic code sees it: any descriptor.
  for (const probe of PROBES as readonly ProbeDescriptor[]) {
    describe(probe.name, () => {
      const zero = probe.merge([]);

      it('its options are named by it, and admission takes exactly them', () => {
        assert.deepEqual(probe.options.parse({ name: probe.name }), { name: probe.name });
        assert.ok(probe.options.description, 'a description for the CRD and the README');
        assert.equal(ProbeSpecSchema.safeParse({ name: probe.name, notAnOption: 1 }).success, false);
      });

      it('its zero result is valid, counts no activity and merges to itself', () => {
        assert.deepEqual(probe.result.parse(zero), zero);
        assert.equal(probe.activity(zero), 0);
        assert.deepEqual(probe.merge([zero, zero]), zero);
        assert.ok(ProbeResultsSchema.safeParse({ [probe.name]: zero }).success);
      });

      it('names top lists its result has, and every metric under its own prefix or by its semantic convention', () => {
        for (const field of probe.topLists) assert.ok(Array.isArray((zero as Record<string, unknown>)[field]), `${field} is a list`);
        const metrics = Object.values(probe.metrics);
        assert.ok(metrics.length > 0);
        for (const m of metrics) {
          // Outside loupe.<probe>.*, only OpenTelemetry semantic-convention durations (http.server.request.duration), in s as they say.
          if (m.name.startsWith('loupe.')) assert.match(m.name, new RegExp(`^loupe\\.${probe.name}\\.`));
          else assert.equal(m.unit, 's', `${m.name}: a semantic-convention duration`);
        }
        const exported = new Set(probe.instruments(zero).map((i) => i.metric.name));
        for (const name of exported) assert.ok(metrics.some((m) => m.name === name), `${name} is declared`);
      });

      it('has a headline, report lines and a kernel side in the catalog', () => {
        assert.ok(probe.headline(zero).length > 0);
        assert.ok(probe.text(zero)[0]?.startsWith(probe.name));
        assert.equal(probeCatalog[probe.name as keyof typeof probeCatalog], probe.kernel);
        assert.equal(probe.kernel.objectFile, `${probe.name}.bpf.o`);
      });
    });
  }

  it('derives a merge from the result schema: counts sum, latencies merge by histogram, top lists re-rank, optionals only when all parts have them', () => {
    const merge = mergeBySchema(
      z.object({ n: count, timeNs: count.optional(), latency: LatencySummarySchema.describe('x'), top: topListSchema('y') }),
    );
    const latency = (slot: number) => summarizeLatency(histogramFromCounts(0, Array.from({ length: slot + 1 }, (_, i) => (i === slot ? 1 : 0))));
    const a = { n: 2, timeNs: 10, latency: latency(3), top: [{ key: 'a', count: 1 }] };
    const b = { n: 3, timeNs: 5, latency: latency(10), top: [{ key: 'b', count: 4 }, { key: 'a', count: 1 }] };
    const both = merge([a, b]);
    assert.equal(both.n, 5);
    assert.equal(both.timeNs, 15);
    assert.equal(both.latency.count, 2);
    assert.deepEqual(both.top, [{ key: 'b', count: 4 }, { key: 'a', count: 2 }]);
    assert.equal('timeNs' in merge([a, { ...b, timeNs: undefined }]), false, 'a part without it: no partial sum');
    assert.throws(() => mergeBySchema(z.object({ label: z.string() })), /result member label: no merge/);
  });

  it('the generic layers name no probe', () => {
    for (const file of GENERIC_FILES) {
      const source = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      const named = PROBE_NAMES.filter((probe) => namedIn(source, probe));
      assert.deepEqual(named, [], `${file} names ${named.join(', ')}`);
    }
  });
});
