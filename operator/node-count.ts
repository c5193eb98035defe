// The number of Nodes in the cluster, which sets how often agents report
// (write-budget.ts). Counted without caching Nodes: a list of one item
// carries remainingItemCount, so a poll costs one small read however large
// the cluster is, and the operator keeps no Node objects in memory.
import type { Logger } from 'pino';
import type { ResourceClient } from '../kube/resource-client.js';
import { nodeResource } from '../kube/resource-type.js';

/** Nodes in the cluster, or undefined when the API cannot say (then callers fall back on what they know). */
export async function countNodes(client: ResourceClient, logger?: Logger): Promise<number | undefined> {
  try {
    const page = await client.list(nodeResource, { limit: 1 });
    const remaining = page.metadata?.remainingItemCount;
    if (remaining !== undefined) return page.items.length + remaining;
    // No count: either this is every node, or the server cannot count (then say nothing).
    return page.metadata?.continue ? undefined : page.items.length;
  } catch (err) {
    logger?.warn({ err }, 'cannot count Nodes (may the operator list nodes?); sizing report intervals by the plans it knows');
    return undefined;
  }
}
