// Addresses of sampled stacks → function names, on the node: kernel frames
// from /proc/kallsyms, user frames from the ELF symbol tables of the files a
// process maps. Binaries are opened through /proc/<pid>/map_files (the very
// file mapped, even deleted or in another mount namespace; needs
// CAP_SYS_ADMIN) or else /proc/<pid>/root, and cached by file identity
// (device, inode, mtime, size), so one image shared by many pods is read
// once. Frames without a symbol say which module they are in.
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileOffsetToVaddr, readElfSymbols, type ElfSymbols } from './elf.js';
import { KernelSymbols } from './kallsyms.js';
import { LruCache } from './lru.js';
import { findMapping, readProcMaps, type FileMapping } from './proc-maps.js';

export const UNKNOWN_FUNCTION = '[unknown]';

export interface Frame {
  /** The function, or UNKNOWN_FUNCTION. */
  name: string;
  /** Binary's base name ('libc.so.6'), 'kernel' or a kernel module's name; '[unknown]' when nothing maps the address. */
  module: string;
  kernel: boolean;
}

export interface SymbolizerOptions {
  /** Binaries whose symbols stay cached. */
  maxBinaries?: number;
  /** Symbols cached over all binaries (the largest binary is kept even alone above it). */
  maxSymbols?: number;
  /** kallsyms is re-read at most this often when a kernel address misses (a module was loaded). */
  kallsymsRefreshMs?: number;
  kallsymsPath?: string;
}

export class Symbolizer {
  /** File identity → its symbols; elf undefined: not ELF or unreadable, so frames show the module only. */
  private readonly binaries: LruCache<string, { elf: ElfSymbols | undefined }>;
  private kernelSymbols?: KernelSymbols;
  private kernelLoadedAt = 0;
  private readonly kallsymsRefreshMs: number;
  private readonly kallsymsPath: string;

  constructor(options: SymbolizerOptions = {}) {
    this.binaries = new LruCache(options.maxBinaries ?? 128, options.maxSymbols ?? 2_000_000);
    this.kallsymsRefreshMs = options.kallsymsRefreshMs ?? 60_000;
    this.kallsymsPath = options.kallsymsPath ?? '/proc/kallsyms';
  }

  /** Kernel frames, leaf first; as for user frames, all but the leaf are return addresses. */
  kernelFrames(addrs: readonly bigint[]): Frame[] {
    return addrs.map((addr, i) => this.kernelFrame(i === 0 ? addr : addr - 1n));
  }

  private kernelFrame(addr: bigint): Frame {
    const now = Date.now();
    let symbol = this.kernel().lookup(addr);
    if (symbol === undefined && now - this.kernelLoadedAt >= this.kallsymsRefreshMs) {
      this.kernelSymbols = undefined;
      symbol = this.kernel().lookup(addr);
    }
    return symbol === undefined ? { name: UNKNOWN_FUNCTION, module: 'kernel', kernel: true } : { ...symbol, kernel: true };
  }

  /** A process as it is now, for a batch of its stacks: its maps are read once. */
  process(pid: number, mappings = readProcMaps(pid)): ProcessSymbolizer {
    return new ProcessSymbolizer(this, pid, mappings);
  }

  /** The symbols of the file a process maps (undefined: not ELF, unreadable, or the process is gone). */
  binaryOf(pid: number, mapping: FileMapping): ElfSymbols | undefined {
    let file: string | undefined;
    let key: string | undefined;
    for (const candidate of [
      `/proc/${pid}/map_files/${mapping.start.toString(16)}-${mapping.end.toString(16)}`,
      `/proc/${pid}/root${mapping.path}`,
    ]) {
      try {
        const st = statSync(candidate, { bigint: true });
        [file, key] = [candidate, `${st.dev}:${st.ino}:${st.mtimeNs}:${st.size}`];
        break;
      } catch {
        // not allowed (map_files without CAP_SYS_ADMIN), or gone: try the next
      }
    }
    if (file === undefined || key === undefined) return undefined; // the process exited
    const cached = this.binaries.get(key);
    if (cached !== undefined) return cached.elf;
    let elf: ElfSymbols | undefined;
    try {
      elf = readElfSymbols(file);
    } catch {
      elf = undefined;
    }
    this.binaries.set(key, { elf }, Math.max(1, elf?.symbols.length ?? 0));
    return elf;
  }

  private kernel(): KernelSymbols {
    if (this.kernelSymbols === undefined) {
      this.kernelSymbols = KernelSymbols.load(this.kallsymsPath);
      this.kernelLoadedAt = Date.now();
    }
    return this.kernelSymbols;
  }
}

/** User frames of one process; each mapped file is looked up once. */
export class ProcessSymbolizer {
  private readonly files = new Map<FileMapping, ElfSymbols | undefined>();

  constructor(
    private readonly symbolizer: Symbolizer,
    readonly pid: number,
    /** undefined: the process has exited, every frame is unknown. */
    private readonly mappings: readonly FileMapping[] | undefined,
  ) {}

  /**
   * Frames of a user stack, leaf first as the kernel records them. Every
   * frame but the leaf is a return address, so the call is at the byte before.
   */
  frames(addrs: readonly bigint[]): Frame[] {
    return addrs.map((addr, i) => this.frame(i === 0 ? addr : addr - 1n));
  }

  private frame(addr: bigint): Frame {
    const mapping = this.mappings === undefined ? undefined : findMapping(this.mappings, addr);
    if (mapping === undefined) return { name: UNKNOWN_FUNCTION, module: UNKNOWN_FUNCTION, kernel: false };
    const module = path.basename(mapping.path.replace(/ \(deleted\)$/, ''));
    if (!this.files.has(mapping)) {
      this.files.set(mapping, mapping.path.startsWith('/') ? this.symbolizer.binaryOf(this.pid, mapping) : undefined);
    }
    const elf = this.files.get(mapping);
    const vaddr = elf === undefined ? undefined : fileOffsetToVaddr(elf.segments, addr - mapping.start + mapping.offset);
    const name = vaddr === undefined ? undefined : elf!.symbols.lookup(vaddr);
    return { name: name ?? UNKNOWN_FUNCTION, module, kernel: false };
  }
}
