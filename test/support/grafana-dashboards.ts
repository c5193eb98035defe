// Loupe's Grafana dashboards (config/grafana/*.json) read as Grafana reads
// them: the panels' Prometheus queries, their template variables substituted
// the way Grafana's Prometheus data source does, and the Prometheus names of
// the metrics the probes declare, made the way the Collector's translation
// (prometheus/otlptranslator, UnderscoreEscapingWithSuffixes) makes them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { MetricDefinition, ProbeDescriptor } from '../../probes/probe-descriptor.js';
import { PROBES } from '../../probes/registry.js';

export const DASHBOARD_DIR = join(import.meta.dirname, '..', '..', 'config', 'grafana');

const DatasourceRefSchema = z.object({ type: z.string(), uid: z.string() });

const TargetSchema = z.object({
  refId: z.string(),
  expr: z.string().min(1),
  datasource: DatasourceRefSchema.optional(),
  instant: z.boolean().optional(),
  range: z.boolean().optional(),
  format: z.enum(['time_series', 'table', 'heatmap']).optional(),
  legendFormat: z.string().optional(),
});
export type Target = z.infer<typeof TargetSchema>;

interface PanelShape {
  id: number;
  type: string;
  title: string;
  datasource?: z.infer<typeof DatasourceRefSchema> | null;
  targets?: Target[];
  panels?: PanelShape[];
}
const PanelSchema: z.ZodType<PanelShape> = z.lazy(() =>
  z.object({
    id: z.number().int(),
    type: z.string(),
    title: z.string(),
    datasource: DatasourceRefSchema.nullable().optional(),
    targets: z.array(TargetSchema).optional(),
    // A collapsed row holds its panels.
    panels: z.array(PanelSchema).optional(),
  }),
);
export type Panel = z.infer<typeof PanelSchema>;

const VariableSchema = z.object({
  name: z.string().regex(/^\w+$/),
  type: z.enum(['datasource', 'query', 'custom', 'constant', 'interval', 'textbox']),
  // Grafana has stored a query variable's query as a string and as an object.
  query: z.union([z.string(), z.object({ query: z.string() })]).optional(),
  datasource: DatasourceRefSchema.nullable().optional(),
  multi: z.boolean().optional(),
  includeAll: z.boolean().optional(),
  allValue: z.string().nullable().optional(),
});
export type Variable = z.infer<typeof VariableSchema>;

export const DashboardSchema = z.object({
  uid: z.string().min(1).max(40),
  title: z.string().min(1),
  schemaVersion: z.number().int().min(39),
  panels: z.array(PanelSchema),
  templating: z.object({ list: z.array(VariableSchema) }),
});
export type Dashboard = z.infer<typeof DashboardSchema>;

export interface DashboardFile {
  file: string;
  dashboard: Dashboard;
}

/** Every dashboard JSON in config/grafana; throws naming the file that is not valid JSON or not a dashboard. */
export function loadDashboards(dir = DASHBOARD_DIR): DashboardFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new Error(`${file}: not JSON: ${(err as Error).message}`);
      }
      const parsed = DashboardSchema.safeParse(json);
      if (!parsed.success) throw new Error(`${file}: not a Grafana dashboard: ${z.prettifyError(parsed.error)}`);
      return { file, dashboard: parsed.data };
    });
}

/** Every panel, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): Panel[] {
  const walk = (panels: readonly Panel[]): Panel[] => panels.flatMap((p) => [p, ...walk(p.panels ?? [])]);
  return walk(dashboard.panels);
}

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  target: Target;
}

export function panelQueries({ dashboard }: DashboardFile): PanelQuery[] {
  return allPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ dashboard: dashboard.title, panel: panel.title, refId: target.refId, target })),
  );
}

export function variableQuery(variable: Variable): string | undefined {
  return typeof variable.query === 'string' ? variable.query : variable.query?.query;
}

/** Grafana's global variables the dashboards use, as the test's time range makes them. */
export interface BuiltIns {
  __rate_interval: string;
  __interval: string;
  __range: string;
}

/** What each dashboard variable is set to: a value, or for a multi-value or All variable, values. */
export type VariableValues = Record<string, string | readonly string[]>;

/** Regex metacharacters, escaped as the Prometheus data source escapes each value of a multi-value variable. */
const escapeRegex = (value: string) => value.replace(/[\\^$*+?.()|{}[\]]/g, '\\$&');

/**
 * The query Grafana sends: `$name`, `${name}` and `[[name]]` replaced. A
 * variable that is multi-value or has All becomes a regex (one value escaped,
 * several `(a|b)`); the All option is its allValue. A reference to no
 * variable is an error, since Grafana would send it as it is.
 */
export function substitute(expr: string, variables: readonly Variable[], values: VariableValues, builtIns: BuiltIns): string {
  const byName = new Map(variables.map((v) => [v.name, v]));
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (ref, braced?: string, bracketed?: string, bare?: string) => {
    const name = (braced ?? bracketed ?? bare) as string;
    if (name in builtIns) return builtIns[name as keyof BuiltIns];
    const variable = byName.get(name);
    const value = values[name];
    if (variable === undefined || value === undefined) throw new Error(`${ref} in ${expr}: no such variable, or no value given for it`);
    if (!(variable.multi === true || variable.includeAll === true)) return Array.isArray(value) ? value.join(',') : (value as string);
    if (value === ALL) {
      if (variable.allValue === undefined || variable.allValue === null) throw new Error(`$${name}: All without an allValue`);
      return variable.allValue;
    }
    const list = typeof value === 'string' ? [value] : value;
    return list.length === 1 ? escapeRegex(list[0]!) : `(${list.map(escapeRegex).join('|')})`;
  });
}

/** The value that selects a variable's All option. */
export const ALL = '$__all';

/** `label_values(match, label)`: a Grafana query variable's Prometheus form. */
export function parseLabelValues(query: string): { match: string; label: string } | undefined {
  const m = /^label_values\((.*),\s*(\w+)\)$/.exec(query.trim());
  return m ? { match: m[1]!.trim(), label: m[2]! } : undefined;
}

// ---------------------------------------------------------------- metric names

/** OTLP units the translation spells out as suffixes (otlptranslator's unit map, the ones Loupe uses). */
const UNIT_WORDS: Record<string, string> = { ns: 'nanoseconds', s: 'seconds', By: 'bytes', ms: 'milliseconds' };

/** A declared metric's kind, as its probe exports it. */
export type MetricKind = 'sum' | 'exponential-histogram' | 'explicit-histogram';

/**
 * The Prometheus series names of one OTLP metric: dots and other invalid
 * characters become `_`; a unit, its `{annotation}` dropped, is appended
 * spelled out (`_nanoseconds`, `_seconds`, `_bytes`) unless the name already
 * ends with it; a monotonic sum gets `_total`. An exponential histogram is
 * one native histogram under that name; an explicit one is classic
 * `_bucket`, `_sum` and `_count` series.
 */
export function prometheusNames(metric: MetricDefinition, kind: MetricKind): string[] {
  let name = metric.name.replace(/[^a-zA-Z0-9_:]/g, '_');
  const unit = metric.unit.replace(/\{[^}]*\}/g, '');
  const word = UNIT_WORDS[unit] ?? (unit === '' ? '' : unit.replace(/[^a-zA-Z0-9_:]/g, '_'));
  if (word !== '' && !name.endsWith(`_${word}`)) name = `${name}_${word}`;
  if (kind === 'sum') return [`${name}_total`];
  if (kind === 'exponential-histogram') return [name];
  return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
}

/**
 * Every Prometheus name Loupe's metrics can have in Prometheus, with the
 * probes and metric each comes from. A metric's kind is the one its probe's
 * instruments() give a zero result. One absent there has no points until
 * something happens: a duration in seconds is then a histogram with explicit
 * buckets (the only kind agent/otlp/metrics.ts exports in `s`: http's), the
 * rest are top lists' sums. The cluster test checks these names against
 * what Prometheus receives.
 */
export function declaredPrometheusNames(): Map<string, { probes: string[]; metric: MetricDefinition }> {
  const names = new Map<string, { probes: string[]; metric: MetricDefinition }>();
  for (const probe of PROBES as readonly ProbeDescriptor[]) {
    const instruments = probe.instruments(probe.merge([]));
    const kinds = new Map<string, MetricKind>(
      instruments.map((i) => [
        i.metric.name,
        i.kind === 'sum' ? 'sum' : i.metric.unit === 's' ? 'explicit-histogram' : 'exponential-histogram',
      ]),
    );
    for (const metric of Object.values(probe.metrics)) {
      const kind = kinds.get(metric.name) ?? (metric.unit === 's' ? 'explicit-histogram' : 'sum');
      // http and tls export the same metrics.
      for (const name of prometheusNames(metric, kind)) names.set(name, { probes: [...(names.get(name)?.probes ?? []), probe.name], metric });
    }
  }
  return names;
}

/**
 * The metric names a PromQL expression selects: every identifier right
 * before a `{` selector, and every name a `__name__=~"…"` regex of literal
 * alternatives spells (Loupe's dashboards write no bare selectors and no
 * other regex syntax in names; anything else is an error, so nothing is
 * silently unchecked).
 */
export function metricNamesOf(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)) names.add(m[1]!);
  for (const m of expr.matchAll(/__name__\s*(=~|=)\s*"([^"]*)"/g)) for (const n of m[1] === '=' ? [m[2]!] : expandAlternatives(m[2]!)) names.add(n);
  if (/__name__\s*(!=|!~)/.test(expr)) throw new Error(`${expr}: a negative __name__ matcher selects names nobody can check`);
  return [...names];
}

/** Every string a regex made of literals, groups and `|` matches, e.g. `a_(b|c)_d` → a_b_d, a_c_d. */
export function expandAlternatives(regex: string): string[] {
  let at = 0;
  const alternatives = (): string[] => {
    const out: string[] = [];
    let current = [''];
    for (;;) {
      const c = regex[at];
      if (c === undefined || c === ')') return [...out, ...current];
      at++;
      if (c === '|') {
        out.push(...current);
        current = [''];
      } else if (c === '(') {
        const inner = alternatives();
        if (regex[at++] !== ')') throw new Error(`${regex}: unbalanced (`);
        current = current.flatMap((prefix) => inner.map((s) => prefix + s));
      } else if (/[a-zA-Z0-9_:]/.test(c)) {
        current = current.map((prefix) => prefix + c);
      } else {
        throw new Error(`${regex}: only literal names, groups and | are expanded, not ${c}`);
      }
    }
  };
  const all = alternatives();
  if (at !== regex.length) throw new Error(`${regex}: unbalanced )`);
  return all;
}
