import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from '../../api/duration.js';
import { ProbeSpecSchema } from '../../api/probes.js';
import { PROBE_NAMES } from '../../probes/registry.js';
import { parseTraceProfile, type TraceProfileSpecInput } from '../../api/traceprofile.js';

function profile(spec: TraceProfileSpecInput | Record<string, unknown>) {
  return { apiVersion: 'loupe.dev/v1alpha1', kind: 'TraceProfile', metadata: { name: 'checkout', namespace: 'shop' }, spec };
}
const minimal = { selector: { matchLabels: { app: 'checkout' } }, probes: [{ name: 'exec' }] };

describe('TraceProfile parsing', () => {
  it('applies every default to a minimal profile', () => {
    const parsed = parseTraceProfile(profile(minimal));
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    assert.deepEqual(parsed.value.spec, {
      selector: { matchLabels: { app: 'checkout' } },
      probes: [{ name: 'exec' }],
      suspend: false,
      interval: '10s',
      output: { status: { topN: 10 } },
    });
  });

  it('applies OTLP defaults and accepts every probe with its options', () => {
    const parsed = parseTraceProfile(
      profile({
        ...minimal,
        probes: [{ name: 'exec' }, { name: 'syscalls', only: ['read', 'openat'] }, { name: 'files', pathPrefixes: ['/etc'] }, { name: 'tcp' }],
        duration: '1h30m',
        output: { otlp: { endpoint: 'otel-collector.observability:4317', tls: { caSecretRef: { name: 'otel-ca' } } } },
      }),
    );
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    assert.deepEqual(parsed.value.spec.output.otlp, {
      endpoint: 'otel-collector.observability:4317',
      protocol: 'grpc',
      insecure: false,
      tls: { caSecretRef: { name: 'otel-ca', key: 'ca.crt' } },
    });
  });

  const rejected: [string, Record<string, unknown>, RegExp][] = [
    ['no probes', { ...minimal, probes: [] }, /^spec\.probes: probes must list at least one probe/m],
    ['an unknown probe', { ...minimal, probes: [{ name: 'kprobe' }] }, /^spec\.probes\[0\]\.name: probe name must be one of exec, syscalls, files, tcp/m],
    ['a duplicate probe', { ...minimal, probes: [{ name: 'tcp' }, { name: 'tcp' }] }, /^spec\.probes: probes must not name the same probe twice/m],
    ['an option of another probe', { ...minimal, probes: [{ name: 'exec', pathPrefixes: ['/etc'] }] }, /^spec\.probes\[0\]: pathPrefixes: not an option of the exec probe/m],
    ['an unknown syscall', { ...minimal, probes: [{ name: 'syscalls', only: ['read', 'not_a_syscall'] }] }, /^spec\.probes\[0\]\.only\[1\]: unknown syscall "not_a_syscall"/m],
    ['a relative path prefix', { ...minimal, probes: [{ name: 'files', pathPrefixes: ['etc'] }] }, /^spec\.probes\[0\]\.pathPrefixes\[0\]: path prefixes are absolute/m],
    ['nine probes', { ...minimal, probes: Array.from({ length: 9 }, () => ({ name: 'exec' })) }, /^spec\.probes: /m],
    ['In without values', { ...minimal, selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }, /^spec\.selector\.matchExpressions\[0\]\.values: values must list at least one label value/m],
    ['Exists with values', { ...minimal, selector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] } }, /^spec\.selector\.matchExpressions\[0\]\.values: values must be omitted/m],
    ['an unknown operator', { ...minimal, selector: { matchExpressions: [{ key: 'app', operator: 'Like' }] } }, /^spec\.selector\.matchExpressions\[0\]\.operator: operator must be one of/m],
    ['a zero duration', { ...minimal, duration: '0s' }, /^spec\.duration: duration must be written like 10m or 1h30m .*greater than 0s/m],
    ['a duration over 7 days', { ...minimal, duration: '169h' }, /^spec\.duration: .*at most 168h/m],
    ['a duration in days', { ...minimal, duration: '2d' }, /^spec\.duration: duration must be written like/m],
    ['a 1s interval', { ...minimal, interval: '1s' }, /^spec\.interval: interval must be .*at least 5s/m],
    ['topN over MAX_TOP_N', { ...minimal, output: { status: { topN: 51 } } }, /^spec\.output\.status\.topN: /m],
    ['a bad container name', { ...minimal, containers: ['Web_1'] }, /^spec\.containers\[0\]: must be a DNS-1123 label/m],
    ['an http endpoint without a scheme', { ...minimal, output: { otlp: { endpoint: 'collector:4318', protocol: 'http' } } }, /^spec\.output\.otlp\.endpoint: endpoint must be an http:\/\/ or https:\/\/ URL when protocol is http/m],
    ['a grpc endpoint without a port', { ...minimal, output: { otlp: { endpoint: 'collector' } } }, /^spec\.output\.otlp\.endpoint: endpoint must be host:port/m],
    ['an unknown protocol', { ...minimal, output: { otlp: { endpoint: 'collector:4317', protocol: 'thrift' } } }, /^spec\.output\.otlp\.protocol: protocol must be grpc or http/m],
    ['tls with insecure', { ...minimal, output: { otlp: { endpoint: 'collector:4317', insecure: true, tls: {} } } }, /^spec\.output\.otlp\.tls: tls must be omitted when insecure is true/m],
    ['too many resource attributes', { ...minimal, output: { otlp: { endpoint: 'c:4317', resourceAttributes: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) } } }, /^spec\.output\.otlp\.resourceAttributes: resourceAttributes can hold at most 32 entries/m],
    ['no selector', { probes: [{ name: 'exec' }] }, /^spec\.selector: /m],
  ];
  for (const [what, spec, message] of rejected) {
    it(`rejects ${what}, naming the field`, () => {
      const parsed = parseTraceProfile(profile(spec));
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.match(parsed.error, message);
    });
  }

  it('accepts a syscall of either architecture Loupe builds for, since admission cannot know the node', () => {
    // open: x86_64 only (arm64 has openat alone); openat: both.
    const parsed = parseTraceProfile(profile({ ...minimal, probes: [{ name: 'syscalls', only: ['open', 'openat'] }] }));
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  });

  it('accepts http(s) URLs for either protocol and IPv6 host:port for grpc', () => {
    for (const otlp of [
      { endpoint: 'https://otlp.example.com:4318', protocol: 'http' },
      { endpoint: 'http://otel-collector.observability:4317' },
      { endpoint: '[fd00::1]:4317' },
    ]) {
      const parsed = parseTraceProfile(profile({ ...minimal, output: { otlp } }));
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    }
  });

  it('offers a spec variant for every probe that reports results', () => {
    assert.deepEqual(
      ProbeSpecSchema.options.map((o) => o.shape.name.value),
      [...PROBE_NAMES],
    );
  });
});

describe('parseDuration', () => {
  it('reads Go durations and refuses anything else', () => {
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('10s'), 10_000);
    for (const bad of ['', '10', '1d', '-5m', '5 m', 'm', '1h30']) assert.equal(parseDuration(bad), undefined, bad);
  });
});
