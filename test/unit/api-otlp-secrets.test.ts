import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readOtlpSecrets, type SecretReader } from '../../agent/otlp-secrets.js';
import type { OtlpOutput } from '../../api/otlp.js';

const secrets = new Map<string, Record<string, string>>([
  ['shop/otlp-headers', { authorization: 'Bearer t0ken', 'x-tenant': 'shop' }],
  ['shop/otlp-ca', { 'ca.crt': '-----BEGIN CERTIFICATE-----\n…' }],
]);
const reads: string[] = [];
const readSecret: SecretReader = async (namespace, name) => {
  reads.push(`${namespace}/${name}`);
  return secrets.get(`${namespace}/${name}`);
};
const otlp = (extra: Partial<OtlpOutput>): OtlpOutput => ({ endpoint: 'collector:4317', protocol: 'grpc', insecure: false, ...extra });

describe('readOtlpSecrets', () => {
  it('reads every header and the CA from Secrets of the profile’s namespace', async () => {
    reads.length = 0;
    const found = await readOtlpSecrets('shop', otlp({ headersSecretRef: { name: 'otlp-headers' }, tls: { caSecretRef: { name: 'otlp-ca', key: 'ca.crt' } } }), readSecret);
    assert.deepEqual(found, { headers: { authorization: 'Bearer t0ken', 'x-tenant': 'shop' }, caPem: '-----BEGIN CERTIFICATE-----\n…' });
    assert.deepEqual(reads, ['shop/otlp-headers', 'shop/otlp-ca']);
  });

  it('needs no Secret when none is referenced', async () => {
    assert.deepEqual(await readOtlpSecrets('shop', otlp({}), readSecret), { headers: {} });
  });

  it('says which Secret or key is missing', async () => {
    await assert.rejects(readOtlpSecrets('other', otlp({ headersSecretRef: { name: 'otlp-headers' } }), readSecret), {
      message: 'otlp.headersSecretRef: Secret other/otlp-headers not found',
    });
    await assert.rejects(readOtlpSecrets('shop', otlp({ tls: { caSecretRef: { name: 'otlp-ca', key: 'root.pem' } } }), readSecret), {
      message: 'otlp.tls.caSecretRef: Secret shop/otlp-ca has no key root.pem',
    });
  });
});
