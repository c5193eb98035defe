// An index of the pod cache by node, kept up to date from the pod informer's
// events, so a node's plan is built from its own pods rather than a scan of
// every pod in the cluster.
import type { InformerEvent } from '../../kube/informer.js';
import { keyOf, type ObjectReader } from '../../kube/object-cache.js';
import type { Pod } from '../pod-targets.js';

export class PodsByNode {
  private readonly keysByNode = new Map<string, Set<string>>();

  constructor(private readonly pods: ObjectReader<Pod>) {}

  /** Feed every pod informer event here; returns the nodes the event concerns (before and after). */
  observe(event: InformerEvent<Pod>): string[] {
    const key = keyOf(event.object);
    const node = event.object.spec?.nodeName;
    const before = event.previous?.spec?.nodeName;
    if (before && before !== node) this.remove(before, key);
    if (node) {
      if (event.type === 'deleted') this.remove(node, key);
      else this.add(node, key);
    }
    return [...new Set([before, node].filter((n): n is string => !!n))];
  }

  podsOn(node: string): Pod[] {
    return [...(this.keysByNode.get(node) ?? [])].flatMap((key) => {
      const pod = this.pods.getByKey(key);
      return pod?.spec?.nodeName === node ? [pod] : [];
    });
  }

  private add(node: string, key: string): void {
    let keys = this.keysByNode.get(node);
    if (keys === undefined) this.keysByNode.set(node, (keys = new Set()));
    keys.add(key);
  }

  private remove(node: string, key: string): void {
    const keys = this.keysByNode.get(node);
    keys?.delete(key);
    if (keys?.size === 0) this.keysByNode.delete(node);
  }
}
