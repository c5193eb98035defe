// The credentials a profile's `otlp` block refers to, read with a get on each
// Secret in the profile's namespace (the agent's RBAC allows get, not list or
// watch), so the OTLP sink itself never talks to Kubernetes.
import type { OtlpOutput } from '../api/otlp.js';

/** A Secret's data, decoded; undefined when it does not exist. */
export type SecretReader = (namespace: string, name: string) => Promise<Record<string, string> | undefined>;

export interface OtlpSecrets {
  /** Every key/value of the headers Secret. */
  headers: Record<string, string>;
  /** PEM under the CA Secret's key, when tls.caSecretRef is set. */
  caPem?: string;
}

/** Throws with a message for status when a Secret or key is missing. */
export async function readOtlpSecrets(namespace: string, otlp: OtlpOutput, readSecret: SecretReader): Promise<OtlpSecrets> {
  const headers: Record<string, string> = {};
  if (otlp.headersSecretRef !== undefined) {
    const data = await readSecret(namespace, otlp.headersSecretRef.name);
    if (data === undefined) throw new Error(`otlp.headersSecretRef: Secret ${namespace}/${otlp.headersSecretRef.name} not found`);
    Object.assign(headers, data);
  }
  const caRef = otlp.tls?.caSecretRef;
  if (caRef === undefined) return { headers };
  const data = await readSecret(namespace, caRef.name);
  if (data === undefined) throw new Error(`otlp.tls.caSecretRef: Secret ${namespace}/${caRef.name} not found`);
  const caPem = data[caRef.key];
  if (caPem === undefined) throw new Error(`otlp.tls.caSecretRef: Secret ${namespace}/${caRef.name} has no key ${caRef.key}`);
  return { headers, caPem };
}
