// The tls probe's kernel side: uprobes on the libssl each targeted process
// maps (ssl-uprobes.ts), attached as those processes appear, feeding the
// HTTP parser of probes/http; its maps drain and decode as the http probe's.
import type { ProbeDefinition } from '../../engine/probes/probe.js';
import { httpParserReader } from '../http/kernel.js';
import type { HttpResult } from '../http/http-result.js';
import { sslTargetLinker } from './ssl-uprobes.js';
import type { TlsOptions } from './tls.js';

export const tlsKernel: ProbeDefinition<HttpResult, TlsOptions> = {
  objectFile: 'tls.bpf.o',

  // Nothing to attach before a targeted process is seen mapping a libssl.
  attach: () => [],

  targetLinker: sslTargetLinker,

  reader: httpParserReader,
};
