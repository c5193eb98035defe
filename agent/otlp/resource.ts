// The OTLP resource of one traced container: where it runs, in Kubernetes
// semantic conventions, which profile traces it, and the user's extra
// attributes. Metrics and logs of the same container share one resource.
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';

/** One traced container, as the agent knows it from its NodeTracePlan. */
export interface OtlpTarget {
  pod: { namespace: string; name: string; uid: string };
  /** id as in pod status (`containerd://4f1c…`) or bare. */
  container: { name: string; id: string };
}

export interface OtlpResourceContext {
  nodeName: string;
  profile: { namespace: string; name: string };
  /** The profile's `output.otlp.resourceAttributes`. */
  extraAttributes?: Record<string, string>;
}

/** Splits pod status's `<runtime>://<id>`; semantic conventions want the bare id in container.id. */
export function parseContainerId(id: string): { runtime?: string; id: string } {
  const match = /^([a-z0-9-]+):\/\/(.+)$/.exec(id);
  return match ? { runtime: match[1]!, id: match[2]! } : { id };
}

export function resourceAttributes(target: OtlpTarget, context: OtlpResourceContext): Record<string, string> {
  const container = parseContainerId(target.container.id);
  return {
    // The user's attributes first, so a clash cannot mislabel where data came from.
    ...context.extraAttributes,
    'k8s.namespace.name': target.pod.namespace,
    'k8s.pod.name': target.pod.name,
    'k8s.pod.uid': target.pod.uid,
    'k8s.container.name': target.container.name,
    'container.id': container.id,
    ...(container.runtime !== undefined && { 'container.runtime.name': container.runtime }),
    'k8s.node.name': context.nodeName,
    'loupe.profile': `${context.profile.namespace}/${context.profile.name}`,
  };
}

/**
 * Resources by container id. The log exporter groups records by resource
 * object identity, so each container must keep the same object; the cache is
 * bounded (least recently used goes) because containers come and go.
 */
export class ResourceCache {
  private readonly resources = new Map<string, Resource>();

  constructor(
    private readonly context: OtlpResourceContext,
    private readonly capacity = 1024,
  ) {}

  get(target: OtlpTarget): Resource {
    const key = `${target.pod.uid}/${target.container.name}/${target.container.id}`;
    let resource = this.resources.get(key);
    if (resource) {
      this.resources.delete(key);
    } else {
      resource = resourceFromAttributes(resourceAttributes(target, this.context));
      const oldest = this.resources.size >= this.capacity ? this.resources.keys().next() : undefined;
      if (oldest && !oldest.done) this.resources.delete(oldest.value);
    }
    this.resources.set(key, resource);
    return resource;
  }
}
