// A sorted table of symbols (start address, size, name) answering "which
// function holds this address?" by binary search. Shared by the kernel
// (kallsyms) and user (ELF) symbolizers. Addresses are bigints: kernel ones
// are above 2^53.

export interface SymbolEntry {
  start: bigint;
  /** 0n when unknown (kallsyms, asm labels): the symbol then runs to the next one. */
  size: bigint;
  name: string;
}

export class SymbolTable {
  private readonly starts: BigUint64Array;
  private readonly ends: BigUint64Array;
  private readonly names: string[];

  /** `end`: the first address past the last symbol when its size is unknown (default: unbounded). */
  constructor(symbols: readonly SymbolEntry[], end = 0xffff_ffff_ffff_ffffn) {
    // By address; at one address keep the entry with a size (a function over an alias label).
    const sorted = [...symbols].sort(
      (a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.size > b.size ? -1 : a.size < b.size ? 1 : 0),
    );
    const kept = sorted.filter((s, i) => i === 0 || sorted[i - 1]!.start !== s.start);
    this.starts = BigUint64Array.from(kept.map((s) => s.start));
    this.ends = BigUint64Array.from(kept.map((s, i) => (s.size > 0n ? s.start + s.size : (kept[i + 1]?.start ?? end))));
    this.names = kept.map((s) => s.name);
  }

  get length(): number {
    return this.names.length;
  }

  /** The name of the symbol whose range holds addr, if any. */
  lookup(addr: bigint): string | undefined {
    let lo = 0;
    let hi = this.starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= addr) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found >= 0 && addr < this.ends[found]! ? this.names[found] : undefined;
  }
}
