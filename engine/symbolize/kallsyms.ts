// Kernel symbols from /proc/kallsyms (readable with addresses by root, or
// with CAP_SYSLOG): text symbols only, sorted once, looked up by binary search.
import { readFileSync } from 'node:fs';
import { SymbolTable, type SymbolEntry } from './symbol-table.js';

export const KERNEL_MODULE = 'kernel';

export interface KernelSymbol {
  name: string;
  /** KERNEL_MODULE, or the loadable module's name (e.g. 'nf_conntrack'). */
  module: string;
}

export class KernelSymbols {
  private constructor(
    private readonly table: SymbolTable,
    private readonly modules: ReadonlyMap<string, string>,
  ) {}

  /**
   * Parses kallsyms text. Addresses all 0 (kptr_restrict for an unprivileged
   * reader) give an empty table: every frame is then unknown.
   */
  static parse(text: string): KernelSymbols {
    const symbols: SymbolEntry[] = [];
    const modules = new Map<string, string>();
    for (const line of text.split('\n')) {
      // "ffffffff81000000 T _text" or "ffffffffc0a01000 t fn\t[module]"
      const match = /^([0-9a-f]+) ([tTwW]) (\S+)(?:\s+\[(\S+)\])?/.exec(line);
      if (match === null) continue;
      const start = BigInt(`0x${match[1]}`);
      if (start === 0n) continue;
      const name = match[3]!;
      symbols.push({ start, size: 0n, name });
      if (match[4] !== undefined) modules.set(name, match[4]);
    }
    return new KernelSymbols(new SymbolTable(symbols), modules);
  }

  static load(path = '/proc/kallsyms'): KernelSymbols {
    return KernelSymbols.parse(readFileSync(path, 'utf8'));
  }

  get size(): number {
    return this.table.length;
  }

  lookup(addr: bigint): KernelSymbol | undefined {
    const name = this.table.lookup(addr);
    return name === undefined ? undefined : { name, module: this.modules.get(name) ?? KERNEL_MODULE };
  }
}
