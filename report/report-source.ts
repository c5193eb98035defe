// What a report is made of, from either place Loupe's results live: a
// TraceProfile's status (read through the kubeconfig) or a `loupe trace
// --output json` document. Both are checked with their schemas first, so a
// document from another tool or an object that is not a TraceProfile gets a
// message naming the wrong field, never a blank page.
import { formatCost } from '../api/probe-format.js';
import type { ProbeResults } from '../api/results.js';
import type { Timeline } from '../api/timeline.js';
import { TraceDocumentSchema } from '../api/trace-document.js';
import { TraceProfileSchema } from '../api/traceprofile.js';
import type { ProbeName } from '../probes/registry.js';
import { headline } from '../operator/headline.js';
import type { z } from 'zod';

export interface ReportPod {
  name: string;
  node?: string;
  results: ProbeResults;
}

export interface ReportData {
  title: string;
  headline?: string;
  facts: { label: string; value: string }[];
  /** What is missing or was cut, in words. */
  notices: string[];
  probes: ProbeName[];
  results: ProbeResults;
  pods: ReportPod[];
  timeline?: Timeline;
}

/** Input that is not what the report reads: the message says what is wrong and what to give instead. */
export class ReportInputError extends Error {}

function issuesOf(error: z.ZodError, limit = 5): string {
  const issues = error.issues.slice(0, limit).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(document)'}: ${i.message}`);
  const more = error.issues.length > limit ? `; and ${error.issues.length - limit} more` : '';
  return `${issues.join('; ')}${more}`;
}

/** A TraceProfile object as the API server returns it. */
export function reportFromTraceProfile(object: unknown): ReportData {
  const parsed = TraceProfileSchema.safeParse(object);
  if (!parsed.success) throw new ReportInputError(`not a TraceProfile Loupe can read: ${issuesOf(parsed.error)}`);
  const profile = parsed.data;
  const status = profile.status ?? {};
  const name = `${profile.metadata.namespace ?? 'default'}/${profile.metadata.name ?? '(unnamed)'}`;
  const probes = profile.spec.probes.map((p) => p.name);
  const facts = [
    { label: 'phase', value: status.phase ?? 'not reconciled yet' },
    { label: 'probes', value: probes.join(', ') },
    { label: 'session', value: status.startedAt === undefined ? 'not started' : `started ${status.startedAt}${status.expiresAt === undefined ? ', no duration' : `, ends ${status.expiresAt}`}` },
    { label: 'interval', value: profile.spec.interval },
  ];
  if (status.targets !== undefined) {
    facts.push({ label: 'targets', value: `${status.targets.pods} pods, ${status.targets.containers} containers on ${status.targets.nodes} nodes` });
  }
  if (status.nodes !== undefined) facts.push({ label: 'nodes ready', value: `${status.nodes.ready}/${status.nodes.total}` });
  if (status.cost !== undefined) facts.push({ label: 'cost', value: `${formatCost(status.cost)} (${status.cost.nodes} nodes)` });

  const notices: string[] = [];
  for (const c of status.conditions ?? []) {
    if ((c.type === 'Degraded' && c.status === 'True') || (c.type === 'Ready' && c.status === 'False')) notices.push(`${c.type}: ${c.message ?? c.reason}`);
  }
  for (const e of status.nodes?.errors ?? []) notices.push(`node ${e.node}: ${e.message}`);
  if (status.results === undefined) {
    notices.push(`No results yet (phase ${status.phase ?? 'not reconciled'}): the agents report every ${profile.spec.interval} once the profile's pods run on a node with an agent.`);
  }
  if (status.truncated !== undefined) {
    notices.push(
      `The status was cut to fit its byte budget: ${status.truncated.pods} pods and ${status.truncated.topEntries} top-list entries are not in it. ` +
        'Send the profile to OTLP (spec.output.otlp) for everything.',
    );
  }
  if (status.results !== undefined && status.timeline === undefined) notices.push('The status has no timeline (an operator older than timelines wrote it): no heat maps over time.');

  return {
    title: `TraceProfile ${name}`,
    ...(status.headline !== undefined && { headline: status.headline }),
    facts,
    notices,
    probes,
    results: status.results ?? {},
    pods: (status.pods ?? []).map((p) => ({ name: `${p.namespace}/${p.name}`, node: p.node, results: p.results })),
    ...(status.timeline !== undefined && { timeline: status.timeline }),
  };
}

/** A `loupe trace --output json` document. */
export function reportFromTraceDocument(json: unknown): ReportData {
  const parsed = TraceDocumentSchema.safeParse(json);
  if (!parsed.success) {
    throw new ReportInputError(`not a \`loupe trace --output json\` document: ${issuesOf(parsed.error)}. Make one with: loupe trace --output json … > trace.json`);
  }
  const doc = parsed.data;
  const facts = [
    { label: 'session', value: `${doc.startedAt} to ${doc.endedAt} (${Math.round(doc.durationMs / 1000)} s, ended by ${doc.endedBy})` },
    { label: 'probes', value: doc.probes.join(', ') },
    { label: 'targets', value: doc.targets.map((t) => t.target).join(', ') || 'none' },
  ];
  if (doc.cost !== undefined) facts.push({ label: 'cost', value: formatCost(doc.cost) });
  const notices = doc.failed.map((f) => `${f.probe} did not load: ${f.message}`);
  if (doc.probes.length === 0) notices.push('No probe counted anything in this session.');
  if (doc.timeline === undefined) notices.push('The document has no timeline (written by a loupe trace older than timelines): no heat maps over time.');
  const line = headline(doc.totals);
  return {
    title: 'loupe trace',
    ...(line !== undefined && { headline: line }),
    facts,
    notices,
    probes: doc.probes,
    results: doc.totals,
    pods: doc.targets.length > 1 ? doc.targets.map((t) => ({ name: `${t.target} (cgroup ${t.cgroupId})`, results: t.results })) : [],
    ...(doc.timeline !== undefined && { timeline: doc.timeline }),
  };
}
