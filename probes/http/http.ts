// The http probe: HTTP/1.x requests served and made by the traced pods, by
// method, status and route, with server and client latency.
import { z } from 'zod';
import { defineProbe, probeOptions } from '../probe-descriptor.js';
import { HTTP_METRICS, httpHeadline, httpInstruments, HttpResultSchema, httpText } from './http-result.js';
import { httpKernel } from './kernel.js';

const description =
  'HTTP/1.x requests served and made (plain TCP), by method, status and route, with server and client latency (p50/p90/p99).';

export const HttpOptionsSchema = probeOptions('http', {
  ports: z
    .array(z.number().int().min(1).max(65535))
    .min(1)
    .max(16)
    .optional()
    .describe('Count only requests to these server ports (the server side: its own port; the client side: the port it connects to); all ports when omitted.'),
}).describe(description);
export type HttpOptions = z.infer<typeof HttpOptionsSchema>;

export const http = defineProbe({
  name: 'http',
  options: HttpOptionsSchema,
  result: HttpResultSchema,
  topLists: ['topSeries'],
  activity: (r) => r.requests,
  headline: httpHeadline,
  text: (r) => httpText('http', r),
  metrics: HTTP_METRICS,
  instruments: (r) => httpInstruments(r, 'http'),
  kernel: httpKernel,
});
