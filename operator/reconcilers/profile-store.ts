// TraceProfiles from the informer cache, parsed with their zod schema
// (defaults applied) once per stored version: cached objects are replaced,
// never mutated, so the object itself keys the memo.
import { parseTraceProfile, type TraceProfile } from '../../api/traceprofile.js';
import type { KubeObject } from '../../kube/kube-object.js';
import type { ObjectReader } from '../../kube/object-cache.js';

export type ParsedProfile = { ok: true; profile: TraceProfile } | { ok: false; error: string };

export class ProfileStore {
  private readonly parsed = new WeakMap<KubeObject, ParsedProfile>();

  constructor(private readonly cache: ObjectReader<KubeObject>) {}

  parse(raw: KubeObject): ParsedProfile {
    let parsed = this.parsed.get(raw);
    if (parsed === undefined) {
      const result = parseTraceProfile(raw);
      parsed = result.ok ? { ok: true, profile: result.value } : { ok: false, error: result.error };
      this.parsed.set(raw, parsed);
    }
    return parsed;
  }

  getRaw(key: string): KubeObject | undefined {
    return this.cache.getByKey(key);
  }

  /** Valid profiles of a namespace (every namespace when omitted). */
  list(namespace?: string): TraceProfile[] {
    return this.cache.list(namespace === undefined ? {} : { namespace }).flatMap((raw) => {
      const parsed = this.parse(raw);
      return parsed.ok ? [parsed.profile] : [];
    });
  }
}
