// LeaseStore on a coordination.k8s.io/v1 Lease, compare-and-swap on its resourceVersion.
import { isConflict } from './api-error.js';
import { microTime, type KubeObject } from './kube-object.js';
import { LeaseConflictError, type LeaseRecord, type LeaseStore, type StoredLease } from './leader-election.js';
import type { ResourceClient } from './resource-client.js';
import type { ResourceType } from './resource-type.js';

export const leaseResource: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };

type Lease = KubeObject & {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
};

export class KubeLeaseStore implements LeaseStore {
  readonly description: string;

  constructor(
    private readonly client: ResourceClient,
    private readonly namespace: string,
    private readonly name: string,
  ) {
    this.description = `lease ${namespace}/${name}`;
  }

  async get(): Promise<StoredLease | undefined> {
    const lease = await this.client.get<Lease>(leaseResource, { namespace: this.namespace, name: this.name });
    return lease === undefined ? undefined : toStored(lease);
  }

  async create(record: LeaseRecord): Promise<StoredLease> {
    return this.write(() => this.client.create<Lease>(leaseResource, this.toLease(record)));
  }

  async update(record: LeaseRecord, version: string): Promise<StoredLease> {
    return this.write(() => this.client.replace<Lease>(leaseResource, this.toLease(record, version)));
  }

  private async write(attempt: () => Promise<Lease>): Promise<StoredLease> {
    try {
      return toStored(await attempt());
    } catch (error) {
      // 409 is both "already exists" (create) and "resourceVersion changed" (update).
      if (isConflict(error)) throw new LeaseConflictError(`${this.description}: ${(error as Error).message}`);
      throw error;
    }
  }

  private toLease(record: LeaseRecord, resourceVersion?: string): Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
      spec: {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: record.leaseDurationSeconds,
        acquireTime: microTime(record.acquireTimeMs),
        renewTime: microTime(record.renewTimeMs),
        leaseTransitions: record.leaseTransitions,
      },
    };
  }
}

function toStored(lease: Lease): StoredLease {
  const spec = lease.spec ?? {};
  return {
    version: lease.metadata?.resourceVersion ?? '',
    record: {
      holderIdentity: spec.holderIdentity ?? '',
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTimeMs: spec.acquireTime ? Date.parse(spec.acquireTime) : 0,
      renewTimeMs: spec.renewTime ? Date.parse(spec.renewTime) : 0,
      leaseTransitions: spec.leaseTransitions ?? 0,
    },
  };
}
