// A least-recently-used cache bounded by entries and by total weight (e.g.
// symbols held), so one huge binary cannot pin unbounded memory.

export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; weight: number }>();
  private weight = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight = Number.POSITIVE_INFINITY,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get totalWeight(): number {
    return this.weight;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key); // re-insert: Map order is recency order
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Adds value, evicting the least recently used until both bounds hold (the newest entry always stays). */
  set(key: K, value: V, weight = 1): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.weight -= old.weight;
    }
    this.entries.set(key, { value, weight });
    this.weight += weight;
    for (const [k, e] of this.entries) {
      if (this.entries.size <= 1 || (this.entries.size <= this.maxEntries && this.weight <= this.maxWeight)) break;
      this.entries.delete(k);
      this.weight -= e.weight;
    }
  }
}
