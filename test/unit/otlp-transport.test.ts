// Where the OTLP exporters send: gRPC targets with the scheme insecure
// implies, OTLP/HTTP's per-signal paths under the endpoint.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grpcUrl, httpSignalUrl } from '../../agent/otlp/transport.js';

describe('OTLP endpoints', () => {
  it('gives a gRPC host:port the scheme insecure implies, and keeps an explicit one', () => {
    assert.equal(grpcUrl('otel-collector.observability:4317', true).protocol, 'http:');
    assert.equal(grpcUrl('otel-collector.observability:4317', false).protocol, 'https:');
    assert.equal(grpcUrl('https://collector:4317', true).protocol, 'https:');
    assert.equal(grpcUrl('[fd00::1]:4317', true).host, '[fd00::1]:4317');
  });

  it('puts OTLP/HTTP signals under the endpoint path', () => {
    assert.equal(httpSignalUrl('http://collector:4318', 'metrics'), 'http://collector:4318/v1/metrics');
    assert.equal(httpSignalUrl('https://gateway.example.com/otlp/', 'logs'), 'https://gateway.example.com/otlp/v1/logs');
    assert.equal(httpSignalUrl('https://gateway.example.com/otlp', 'logs'), 'https://gateway.example.com/otlp/v1/logs');
  });
});
