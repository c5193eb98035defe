// When the operator copies a profile's OTLP Secrets into Loupe's namespace
// again, deletes its copy, or leaves it be. Visited on every reconcile of the
// profile, so the answer must be "nothing" almost always: at 500 profiles a
// needless write per visit is a steady load on the API server.

/** How often a profile's OTLP Secrets are copied again while its spec stays the same (rotated credentials). */
export const SECRET_COPY_REFRESH_MS = 5 * 60_000;

export type SecretCopyAction = 'none' | 'copy' | 'delete copy' | 'forget';

interface SecretCopyRecord {
  /** The profile generation the last visit acted on. */
  generation: number;
  atMs: number;
  /** Whether a copy was written then (a profile without Secrets has none to delete). */
  copied: boolean;
}

/** Profile uid → what the last visit did, so the next visit knows what it must do. */
export class OtlpSecretCopies {
  private readonly records = new Map<string, SecretCopyRecord>();

  /** `existing`: the uids of the profiles whose copies were in Loupe's namespace when this record began (one list, not a delete per profile). */
  constructor(private readonly existing: ReadonlySet<string>) {}

  /**
   * What a visit at nowMs must do for the profile `uid` at `generation`,
   * whose otlp block names Secrets (`wanted`) or not: copy them when the
   * spec changed or the last copy is old; delete a copy it no longer wants;
   * otherwise nothing ('forget': no copy can exist, only the record is new).
   */
  next(uid: string, generation: number, wanted: boolean, nowMs: number): SecretCopyAction {
    const last = this.records.get(uid);
    if (last !== undefined && last.generation === generation && (!wanted || nowMs - last.atMs < SECRET_COPY_REFRESH_MS)) return 'none';
    if (wanted) return 'copy';
    return this.mayExist(uid) ? 'delete copy' : 'forget';
  }

  /** Whether a copy may exist: one was written since the record began, or was there when it began. */
  mayExist(uid: string): boolean {
    return this.records.get(uid)?.copied ?? this.existing.has(uid);
  }

  /** Records a visit once its API calls succeeded, so a failed one is retried with the next reconcile. */
  done(uid: string, generation: number, nowMs: number, copied: boolean): void {
    this.records.set(uid, { generation, atMs: nowMs, copied });
  }

  /** The profile is gone: forget its record. */
  delete(uid: string): void {
    this.records.delete(uid);
  }
}
