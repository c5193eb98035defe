// Where a profile sends full-fidelity data: an OTLP endpoint, with the
// credentials kept in Secrets of the profile's namespace.
import { z } from 'zod';
import { withCelRules } from './cel.js';
import { boundedMap, DnsSubdomainSchema } from './meta.js';

export const OTLP_PROTOCOLS = ['grpc', 'http'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

// An IPv6 literal in brackets, or a DNS name / IPv4 address, then a port.
const HOST_PORT_PATTERN = '^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):[0-9]{1,5}$';
const hostPortRegex = new RegExp(HOST_PORT_PATTERN);
// The same pattern as a CEL string literal, where each backslash is doubled.
const HOST_PORT_CEL = HOST_PORT_PATTERN.replaceAll('\\', '\\\\');
const HTTP_URL_CEL =
  "isURL(self.endpoint) && url(self.endpoint).getScheme() in ['http', 'https'] && url(self.endpoint).getHostname() != ''";

function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
}

const SecretNameSchema = DnsSubdomainSchema.describe("Name of a Secret in the profile's namespace.");

export const OtlpOutputSchema = withCelRules(
  z.object({
    endpoint: z
      .string()
      .min(1)
      .max(512)
      .describe(
        'grpc: host:port or an http(s) URL (otel-collector.observability:4317); http: a URL (http://otel-collector.observability:4318).',
      ),
    protocol: z.enum(OTLP_PROTOCOLS, { error: 'protocol must be grpc or http' }).default('grpc').describe('OTLP transport.'),
    insecure: z.boolean().default(false).describe('Plain text, no TLS.'),
    tls: z
      .object({
        caSecretRef: z
          .object({
            name: SecretNameSchema,
            key: z.string().min(1).max(253).default('ca.crt').describe('Key of the CA bundle (PEM) in the Secret.'),
          })
          .optional()
          .describe("CA that signs the endpoint's certificate; the system roots when omitted."),
      })
      .optional(),
    headersSecretRef: z
      .object({ name: SecretNameSchema })
      .optional()
      .describe('Secret whose every key/value pair is sent as a header (e.g. authorization).'),
    resourceAttributes: boundedMap(z.string().max(256), { field: 'resourceAttributes', maxProperties: 32, maxKeyLength: 128 })
      .optional()
      .describe('Added to the OTLP resource of everything this profile exports (e.g. deployment.environment: prod).'),
  }),
  {
    rule: `self.protocol != 'http' || (${HTTP_URL_CEL})`,
    message: 'endpoint must be an http:// or https:// URL when protocol is http, e.g. http://otel-collector.observability:4318',
    fieldPath: '.endpoint',
    holds: (o) => o.protocol !== 'http' || isHttpUrl(o.endpoint),
  },
  {
    rule: `self.protocol != 'grpc' || self.endpoint.matches('${HOST_PORT_CEL}') || (${HTTP_URL_CEL})`,
    message: 'endpoint must be host:port (e.g. otel-collector.observability:4317) or an http(s) URL when protocol is grpc',
    fieldPath: '.endpoint',
    holds: (o) => o.protocol !== 'grpc' || hostPortRegex.test(o.endpoint) || isHttpUrl(o.endpoint),
  },
  {
    rule: '!(self.insecure && has(self.tls))',
    message: 'tls must be omitted when insecure is true; remove tls or set insecure: false',
    fieldPath: '.tls',
    reason: 'FieldValueForbidden',
    holds: (o) => !(o.insecure && o.tls !== undefined),
  },
);
export type OtlpOutput = z.infer<typeof OtlpOutputSchema>;
