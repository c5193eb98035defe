// Dense small integers handed out and taken back: profile bits (0..63) and
// per-object target slots (0..max-1). The lowest free one goes first, so
// slot-indexed kernel arrays stay compact and bits are reused.
export class SlotAllocator {
  private readonly used: Uint8Array;
  private count = 0;

  constructor(readonly capacity: number) {
    this.used = new Uint8Array(capacity);
  }

  /** The lowest free slot, or undefined when all are taken. */
  allocate(): number | undefined {
    if (this.count === this.capacity) return undefined;
    const slot = this.used.indexOf(0);
    this.used[slot] = 1;
    this.count++;
    return slot;
  }

  release(slot: number): void {
    if (this.used[slot] !== 1) throw new Error(`slot ${slot} is not allocated`);
    this.used[slot] = 0;
    this.count--;
  }

  get inUse(): number {
    return this.count;
  }
}
