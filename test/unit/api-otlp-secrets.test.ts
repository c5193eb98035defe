import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { otlpSecretCopyData, otlpSecretCopyName, readOtlpSecretCopy, readOtlpSecrets, type SecretReader } from '../../api/otlp-secrets.js';
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

describe('the operator\'s copy of a profile\'s OTLP Secrets', () => {
  const full = otlp({ headersSecretRef: { name: 'otlp-headers' }, tls: { caSecretRef: { name: 'otlp-ca', key: 'ca.crt' } } });
  const profile = { uid: '0d3c2b1a', namespace: 'shop' };

  it('round-trips headers and CA through one Secret in Loupe\'s namespace', async () => {
    const found = await readOtlpSecrets('shop', full, readSecret);
    const copy = otlpSecretCopyData(found);
    assert.deepEqual(Object.keys(copy).sort(), ['ca.crt', 'header.authorization', 'header.x-tenant']);
    const copies = new Map([[`loupe-system/${otlpSecretCopyName(profile.uid)}`, copy]]);
    const readCopy: SecretReader = async (namespace, name) => copies.get(`${namespace}/${name}`);
    assert.deepEqual(await readOtlpSecretCopy('loupe-system', profile, full, readCopy), found);
  });

  it('reads nothing when no Secret is referenced, and says what is missing otherwise', async () => {
    const none: SecretReader = async () => assert.fail('no Secret to read');
    assert.deepEqual(await readOtlpSecretCopy('loupe-system', profile, otlp({}), none), { headers: {} });
    const empty: SecretReader = async () => undefined;
    await assert.rejects(readOtlpSecretCopy('loupe-system', profile, full, empty), {
      message: /^Secret loupe-system\/loupe-otlp-0d3c2b1a not found: the operator copies .* in shop there once they exist/,
    });
    const noCa: SecretReader = async () => ({ 'header.authorization': 'Bearer t0ken' });
    await assert.rejects(readOtlpSecretCopy('loupe-system', profile, full, noCa), { message: /has no CA yet/ });
  });
});
