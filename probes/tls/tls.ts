// The tls probe: HTTPS requests served and made through OpenSSL's libssl,
// read as plaintext at SSL_read/SSL_write and counted exactly as the http
// probe counts plain HTTP (same result, url.scheme https).
import { z } from 'zod';
import { defineProbe, probeOptions } from '../probe-descriptor.js';
import { HTTP_METRICS, httpHeadline, httpInstruments, HttpResultSchema, httpText } from '../http/http-result.js';
import { tlsKernel } from './kernel.js';

const description =
  'HTTPS (HTTP/1.x over TLS) requests served and made through OpenSSL (libssl 1.1.1 and 3, dynamically linked), ' +
  'by method, status and route, with server and client latency; the server port reads 0 (unknown).';

export const TlsOptionsSchema = probeOptions('tls', {}).describe(description);
export type TlsOptions = z.infer<typeof TlsOptionsSchema>;

export const tls = defineProbe({
  name: 'tls',
  options: TlsOptionsSchema,
  result: HttpResultSchema,
  topLists: ['topSeries'],
  activity: (r) => r.requests,
  headline: httpHeadline,
  text: (r) => httpText('tls', r),
  metrics: HTTP_METRICS,
  instruments: (r) => httpInstruments(r, 'https'),
  kernel: tlsKernel,
});
