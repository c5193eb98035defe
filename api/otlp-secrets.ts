// The credentials a profile's `otlp` block refers to (a headers Secret and a
// CA Secret in the profile's namespace), and the one Secret per profile the
// operator copies them into in its own namespace. Agents read only that copy,
// so a node's credentials reach Secrets of Loupe's namespace, never a
// tenant's; the OTLP sink itself never talks to Kubernetes.
import type { OtlpOutput } from './otlp.js';

/** A Secret's data, decoded; undefined when it does not exist. */
export type SecretReader = (namespace: string, name: string) => Promise<Record<string, string> | undefined>;

/** A Secret object's base64 data, decoded; undefined for a missing Secret. */
export function decodedSecretData(secret: { data?: Record<string, string> } | undefined): Record<string, string> | undefined {
  if (secret === undefined) return undefined;
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

export interface OtlpSecrets {
  /** Every key/value of the headers Secret. */
  headers: Record<string, string>;
  /** PEM under the CA Secret's key, when tls.caSecretRef is set. */
  caPem?: string;
}

/** A Secret or key the otlp block names does not exist; the message says which. */
export class OtlpSecretMissingError extends Error {
  override readonly name = 'OtlpSecretMissingError';
}

/** Keys of the copy: one per header, and the CA. */
const HEADER_KEY_PREFIX = 'header.';
const CA_KEY = 'ca.crt';

const SECRET_COPY_PREFIX = 'loupe-otlp-';

/** The name of a profile's copy in the operator's namespace. */
export function otlpSecretCopyName(profileUid: string): string {
  return `${SECRET_COPY_PREFIX}${profileUid}`;
}

/** The uid of the profile whose copy this Secret is, or undefined for another Secret. */
export function profileUidOfSecretCopy(secretName: string): string | undefined {
  return secretName.startsWith(SECRET_COPY_PREFIX) && secretName.length > SECRET_COPY_PREFIX.length ? secretName.slice(SECRET_COPY_PREFIX.length) : undefined;
}

/** Whether the block refers to any Secret (and so has a copy). */
export function referencesSecrets(otlp: OtlpOutput | undefined): boolean {
  return otlp?.headersSecretRef !== undefined || otlp?.tls?.caSecretRef !== undefined;
}

/** Reads the Secrets a profile refers to; throws OtlpSecretMissingError, saying which, when a Secret or key is missing. */
export async function readOtlpSecrets(namespace: string, otlp: OtlpOutput, readSecret: SecretReader): Promise<OtlpSecrets> {
  const headers: Record<string, string> = {};
  if (otlp.headersSecretRef !== undefined) {
    const data = await readSecret(namespace, otlp.headersSecretRef.name);
    if (data === undefined) throw new OtlpSecretMissingError(`otlp.headersSecretRef: Secret ${namespace}/${otlp.headersSecretRef.name} not found`);
    Object.assign(headers, data);
  }
  const caRef = otlp.tls?.caSecretRef;
  if (caRef === undefined) return { headers };
  const data = await readSecret(namespace, caRef.name);
  if (data === undefined) throw new OtlpSecretMissingError(`otlp.tls.caSecretRef: Secret ${namespace}/${caRef.name} not found`);
  const caPem = data[caRef.key];
  if (caPem === undefined) throw new OtlpSecretMissingError(`otlp.tls.caSecretRef: Secret ${namespace}/${caRef.name} has no key ${caRef.key}`);
  return { headers, caPem };
}

/** The copy's data (decoded) for what readOtlpSecrets found. */
export function otlpSecretCopyData(secrets: OtlpSecrets): Record<string, string> {
  const data = Object.fromEntries(Object.entries(secrets.headers).map(([key, value]) => [`${HEADER_KEY_PREFIX}${key}`, value]));
  return secrets.caPem === undefined ? data : { ...data, [CA_KEY]: secrets.caPem };
}

/**
 * What an agent exports with: the copy of the profile's Secrets in the
 * operator's namespace. Throws with a message for status when it is missing.
 */
export async function readOtlpSecretCopy(
  namespace: string,
  profile: { uid: string; namespace: string },
  otlp: OtlpOutput,
  readSecret: SecretReader,
): Promise<OtlpSecrets> {
  if (!referencesSecrets(otlp)) return { headers: {} };
  const name = otlpSecretCopyName(profile.uid);
  const data = await readSecret(namespace, name);
  if (data === undefined) {
    throw new Error(
      `Secret ${namespace}/${name} not found: the operator copies the Secrets that otlp.headersSecretRef and ` +
        `otlp.tls.caSecretRef name in ${profile.namespace} there once they exist (see the profile's events)`,
    );
  }
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) if (key.startsWith(HEADER_KEY_PREFIX)) headers[key.slice(HEADER_KEY_PREFIX.length)] = value;
  const caPem = data[CA_KEY];
  if (otlp.tls?.caSecretRef === undefined) return { headers };
  if (caPem === undefined) throw new Error(`Secret ${namespace}/${name} has no CA yet: the operator copies otlp.tls.caSecretRef there`);
  return { headers, caPem };
}
