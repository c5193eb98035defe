// The probe catalog as users ask for it: `probes: [{name: files, pathPrefixes: [/etc]}]`.
// One variant per probe, its descriptor's options (probes/<name>/),
// discriminated by name. The CRD post-pass turns the union into a single
// object whose options are only allowed beside their probe's name.
import { z } from 'zod';
import { withCelRules } from './cel.js';
import { PROBE_NAMES, PROBES } from '../probes/registry.js';

/** Each descriptor's options schema, as a tuple (what discriminatedUnion types its variants by). */
type OptionsOfEach<T extends readonly unknown[]> = { -readonly [I in keyof T]: T[I] extends { options: infer O } ? O : never };

export const ProbeSpecSchema = z.discriminatedUnion('name', PROBES.map((p) => p.options) as unknown as OptionsOfEach<typeof PROBES>, {
  error: `probe name must be one of ${PROBE_NAMES.join(', ')}`,
});
export type ProbeSpec = z.infer<typeof ProbeSpecSchema>;

/** A profile may ask for every probe, once each. */
export const MAX_PROBES = PROBE_NAMES.length;

export const ProbeSpecListSchema = withCelRules(
  z
    .array(ProbeSpecSchema)
    .min(1, { error: 'probes must list at least one probe, e.g. [{name: exec}]' })
    .max(MAX_PROBES)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }),
  {
    rule: 'self.all(p, self.exists_one(q, q.name == p.name))',
    message: 'probes must not name the same probe twice; merge the duplicate entries',
    holds: (probes) => new Set(probes.map((p) => p.name)).size === probes.length,
  },
);
