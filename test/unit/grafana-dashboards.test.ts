// The Grafana dashboards' structure, without Grafana or Prometheus: valid
// dashboards, unique ids, every panel on the `${datasource}` variable, every
// variable a query uses defined, every metric a query selects one a probe
// declares (under the name Prometheus gives it), and the kustomization
// provisions every dashboard for Grafana's sidecar. Whether the queries
// return data is test/cluster/grafana-dashboards.test.ts's job.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { z } from 'zod';
import {
  ALL,
  allPanels,
  DASHBOARD_DIR,
  declaredPrometheusNames,
  expandAlternatives,
  loadDashboards,
  metricNamesOf,
  panelQueries,
  parseLabelValues,
  prometheusNames,
  substitute,
  variableQuery,
} from '../support/grafana-dashboards.js';

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const BUILT_INS = { __rate_interval: '1m', __interval: '15s', __range: '1h' };

const dashboards = loadDashboards();
const declared = declaredPrometheusNames();

describe('grafana dashboards: structure', () => {
  it('has the overview, the latency heat maps and the pod drill-down', () => {
    assert.deepEqual(dashboards.map((d) => d.dashboard.uid).sort(), ['loupe-latency', 'loupe-overview', 'loupe-pod']);
  });

  for (const file of dashboards) {
    const { dashboard } = file;
    describe(file.file, () => {
      const panels = allPanels(dashboard);
      const variables = dashboard.templating.list;

      it('gives every panel a unique id', () => {
        const ids = panels.map((p) => p.id);
        assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), []);
      });

      it('puts every panel and every query on the ${datasource} variable, a Prometheus data source', () => {
        const ds = variables.find((v) => v.name === 'datasource');
        assert.equal(ds?.type, 'datasource');
        assert.equal(variableQuery(ds!), 'prometheus');
        for (const panel of panels.filter((p) => p.type !== 'row')) {
          assert.deepEqual(panel.datasource, DATASOURCE, `panel "${panel.title}"`);
          assert.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has no query`);
          for (const target of panel.targets ?? []) assert.deepEqual(target.datasource, DATASOURCE, `panel "${panel.title}" ${target.refId}`);
        }
        for (const v of variables.filter((v) => v.type === 'query')) assert.deepEqual(v.datasource, DATASOURCE, `variable ${v.name}`);
      });

      it('gives panel titles and query refIds that tell queries apart', () => {
        const titles = panels.filter((p) => p.type !== 'row').map((p) => p.title);
        assert.deepEqual(titles.filter((t, i) => titles.indexOf(t) !== i), [], 'duplicate panel titles');
        for (const panel of panels) {
          const refs = (panel.targets ?? []).map((t) => t.refId);
          assert.equal(new Set(refs).size, refs.length, `panel "${panel.title}" repeats a refId`);
        }
      });

      it('uses only variables it defines, and its query variables are label_values of Loupe series', () => {
        const values = Object.fromEntries(variables.map((v) => [v.name, v.includeAll ? ALL : 'x']));
        for (const q of panelQueries(file)) assert.doesNotThrow(() => substitute(q.target.expr, variables, values, BUILT_INS), `${q.panel} ${q.refId}`);
        for (const v of variables.filter((v) => v.type === 'query')) {
          const lv = parseLabelValues(variableQuery(v) ?? '');
          assert.ok(lv, `variable ${v.name}: ${variableQuery(v)}`);
          assert.match(lv.match, /loupe_profile!=""/, `variable ${v.name} lists only series Loupe exported`);
          assert.doesNotThrow(() => substitute(lv.match, variables, values, BUILT_INS));
          if (v.includeAll) assert.equal(v.allValue, '.+', `variable ${v.name}: All as a regex, not a list of every value`);
        }
      });

      it('selects only metrics a probe declares, by their Prometheus names', () => {
        for (const q of panelQueries(file)) {
          const names = metricNamesOf(q.target.expr);
          // Counting profiles, pods or nodes reads every series Loupe exported, by its resource label.
          const everyLoupeSeries = /\{loupe_profile!="",/.test(q.target.expr);
          assert.ok(names.length > 0 || everyLoupeSeries, `${q.panel} ${q.refId}: selects no metric by name: ${q.target.expr}`);
          for (const name of names) assert.ok(declared.has(name), `${q.panel} ${q.refId}: ${name} is no probe's metric`);
        }
      });

      it('draws heat maps from histograms: native ones as they are, classic ones by le in heatmap format', () => {
        for (const panel of panels.filter((p) => p.type === 'heatmap')) {
          const [target, ...rest] = panel.targets ?? [];
          assert.ok(target && rest.length === 0, `heat map "${panel.title}" has one query`);
          const [name] = metricNamesOf(target.expr);
          if (name!.endsWith('_bucket')) {
            assert.equal(target.format, 'heatmap', panel.title);
            assert.match(target.expr, /sum by \(le\)/, panel.title);
          } else {
            assert.equal(declared.get(name!)?.metric.unit, 'ns', `${panel.title}: ${name} is a native histogram`);
          }
        }
      });
    });
  }

  it('covers every latency histogram a probe exports with a heat map', () => {
    const heatMapped = new Set(
      dashboards.flatMap(({ dashboard }) =>
        allPanels(dashboard)
          .filter((p) => p.type === 'heatmap' && dashboard.uid === 'loupe-latency')
          .flatMap((p) => (p.targets ?? []).flatMap((t) => metricNamesOf(t.expr))),
      ),
    );
    const histograms = [...declared.entries()].filter(([name, { metric }]) => metric.unit === 'ns' ? !name.endsWith('_total') : name.endsWith('_bucket'));
    assert.deepEqual(histograms.map(([name]) => name).filter((n) => !heatMapped.has(n)), []);
  });

  it('provisions every dashboard through the kustomization, labelled for Grafana\'s sidecar', () => {
    const Kustomization = z.object({
      generatorOptions: z.object({ disableNameSuffixHash: z.literal(true), labels: z.record(z.string(), z.string()) }),
      configMapGenerator: z.array(z.object({ name: z.string(), files: z.array(z.string()) })),
    });
    const k = Kustomization.parse(parse(readFileSync(join(DASHBOARD_DIR, 'kustomization.yaml'), 'utf8')));
    assert.equal(k.generatorOptions.labels.grafana_dashboard, '1');
    const files = k.configMapGenerator.flatMap((g) => g.files).sort();
    assert.deepEqual(files, readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')).sort());
  });
});

describe('grafana dashboards: Prometheus names and Grafana substitution', () => {
  it('names metrics as the Collector\'s translation does', () => {
    assert.deepEqual(prometheusNames({ name: 'loupe.syscalls.calls', unit: '{call}', description: '' }, 'sum'), ['loupe_syscalls_calls_total']);
    assert.deepEqual(prometheusNames({ name: 'loupe.tcp.io', unit: 'By', description: '' }, 'sum'), ['loupe_tcp_io_bytes_total']);
    assert.deepEqual(prometheusNames({ name: 'loupe.profile.cpu.time', unit: 'ns', description: '' }, 'sum'), ['loupe_profile_cpu_time_nanoseconds_total']);
    assert.deepEqual(prometheusNames({ name: 'loupe.runqlat.latency', unit: 'ns', description: '' }, 'exponential-histogram'), ['loupe_runqlat_latency_nanoseconds']);
    assert.deepEqual(prometheusNames({ name: 'dns.lookup.duration', unit: 's', description: '' }, 'explicit-histogram'), [
      'dns_lookup_duration_seconds_bucket',
      'dns_lookup_duration_seconds_sum',
      'dns_lookup_duration_seconds_count',
    ]);
    assert.deepEqual(declared.get('loupe_syscalls_duration_nanoseconds')?.probes, ['syscalls']);
    assert.deepEqual(declared.get('http_server_request_duration_seconds_bucket')?.probes, ['http', 'tls']);
    assert.deepEqual(declared.get('loupe_profile_function_cpu_time_nanoseconds_total')?.probes, ['profile']);
  });

  it('expands __name__ regexes of literal alternatives, and refuses others', () => {
    assert.deepEqual(expandAlternatives('a_(b|c_(d|e))_f|g'), ['a_b_f', 'a_c_d_f', 'a_c_e_f', 'g']);
    assert.throws(() => expandAlternatives('loupe_.+'), /only literal names/);
    assert.deepEqual(metricNamesOf('sum(rate({__name__=~"x_(a|b)_total", k="v"}[1m])) / sum(y_count{k="v"})').sort(), ['x_a_total', 'x_b_total', 'y_count']);
  });

  it('substitutes variables as the Prometheus data source does', () => {
    const variables = [
      { name: 'ns', type: 'query' as const, multi: true, includeAll: true, allValue: '.+' },
      { name: 'pod', type: 'query' as const, multi: false, includeAll: false },
    ];
    const expr = 'x{a=~"$ns", b="${pod}", c="[[pod]]"}[$__rate_interval]';
    assert.equal(substitute(expr, variables, { ns: ALL, pod: 'web' }, BUILT_INS), 'x{a=~".+", b="web", c="web"}[1m]');
    assert.equal(substitute(expr, variables, { ns: ['a.b', 'c'], pod: 'web' }, BUILT_INS), 'x{a=~"(a\\.b|c)", b="web", c="web"}[1m]');
    assert.throws(() => substitute('x{a="$nope"}', variables, { ns: ALL, pod: 'web' }, BUILT_INS), /no such variable/);
  });
});
