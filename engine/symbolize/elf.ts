// Just enough of ELF to symbolize: the PT_LOAD program headers (file offset →
// virtual address) and the function symbols of .symtab and .dynsym. ELF64
// little-endian only (x86_64, arm64); anything else reads as "no symbols".
// Reads with positional reads, so a 100 MB binary costs only its tables.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { SymbolTable, type SymbolEntry } from './symbol-table.js';

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const SHN_UNDEF = 0;
/** A symbol section larger than this is not read (no real binary comes close). */
const MAX_SYMBOL_SECTION_BYTES = 256 * 1024 * 1024;

export interface LoadSegment {
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
}

export interface ElfSymbols {
  segments: LoadSegment[];
  symbols: SymbolTable;
}

export class ElfFormatError extends Error {
  override readonly name = 'ElfFormatError';
}

function readAt(fd: number, offset: bigint, length: number, fileSize: bigint): Buffer {
  if (offset < 0n || offset + BigInt(length) > fileSize) {
    throw new ElfFormatError(`table at ${offset}+${length} is past the end of the file`);
  }
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, Number(offset) + done);
    if (n === 0) throw new ElfFormatError('file shrank while reading');
    done += n;
  }
  return buf;
}

interface SectionHeader {
  type: number;
  offset: bigint;
  size: bigint;
  link: number;
}

function functionSymbols(fd: number, fileSize: bigint, symtab: SectionHeader, strtab: SectionHeader): SymbolEntry[] {
  if (symtab.size > BigInt(MAX_SYMBOL_SECTION_BYTES) || strtab.size > BigInt(MAX_SYMBOL_SECTION_BYTES)) return [];
  const syms = readAt(fd, symtab.offset, Number(symtab.size), fileSize);
  const strings = readAt(fd, strtab.offset, Number(strtab.size), fileSize);
  const out: SymbolEntry[] = [];
  for (let off = 0; off + SYM_SIZE <= syms.length; off += SYM_SIZE) {
    const type = syms.readUInt8(off + 4) & 0xf;
    if (type !== STT_FUNC && type !== STT_GNU_IFUNC) continue;
    if (syms.readUInt16LE(off + 6) === SHN_UNDEF) continue;
    const start = syms.readBigUInt64LE(off + 8);
    const nameOff = syms.readUInt32LE(off);
    if (start === 0n || nameOff >= strings.length) continue;
    const end = strings.indexOf(0, nameOff);
    out.push({ start, size: syms.readBigUInt64LE(off + 16), name: strings.toString('utf8', nameOff, end === -1 ? strings.length : end) });
  }
  return out;
}

/** Reads the load segments and function symbols of an ELF file; throws ElfFormatError if it is not ELF64 LE. */
export function readElfSymbols(path: string): ElfSymbols {
  const fd = openSync(path, 'r');
  try {
    const fileSize = BigInt(fstatSync(fd).size);
    const ehdr = readAt(fd, 0n, EHDR_SIZE, fileSize);
    if (ehdr.readUInt32BE(0) !== 0x7f454c46) throw new ElfFormatError(`${path} is not an ELF file`);
    if (ehdr[4] !== 2 || ehdr[5] !== 1) throw new ElfFormatError(`${path} is not ELF64 little-endian`);
    const phoff = ehdr.readBigUInt64LE(32);
    const shoff = ehdr.readBigUInt64LE(40);
    const phnum = ehdr.readUInt16LE(56);
    let shnum = ehdr.readUInt16LE(60);

    const segments: LoadSegment[] = [];
    const phdrs = readAt(fd, phoff, phnum * PHDR_SIZE, fileSize);
    for (let i = 0; i < phnum; i++) {
      const p = i * PHDR_SIZE;
      if (phdrs.readUInt32LE(p) !== PT_LOAD) continue;
      segments.push({ offset: phdrs.readBigUInt64LE(p + 8), vaddr: phdrs.readBigUInt64LE(p + 16), filesz: phdrs.readBigUInt64LE(p + 32) });
    }

    const symbols: SymbolEntry[] = [];
    if (shoff !== 0n) {
      // More than 0xff00 sections: the count is in section 0's sh_size.
      if (shnum === 0) shnum = Number(readAt(fd, shoff, SHDR_SIZE, fileSize).readBigUInt64LE(32));
      const shdrs = readAt(fd, shoff, shnum * SHDR_SIZE, fileSize);
      const sections: SectionHeader[] = [];
      for (let i = 0; i < shnum; i++) {
        const s = i * SHDR_SIZE;
        sections.push({
          type: shdrs.readUInt32LE(s + 4),
          offset: shdrs.readBigUInt64LE(s + 24),
          size: shdrs.readBigUInt64LE(s + 32),
          link: shdrs.readUInt32LE(s + 40),
        });
      }
      for (const section of sections) {
        if (section.type !== SHT_SYMTAB && section.type !== SHT_DYNSYM) continue;
        const strtab = sections[section.link];
        if (strtab !== undefined) symbols.push(...functionSymbols(fd, fileSize, section, strtab));
      }
    }
    return { segments, symbols: new SymbolTable(symbols, 0n) };
  } finally {
    closeSync(fd);
  }
}

/**
 * The ELF virtual address (what symbols hold) of a byte at `fileOffset` in
 * the file: a process maps file offset O of a PT_LOAD segment at its load
 * address + (O - p_offset + p_vaddr), for PIE, shared objects and fixed
 * executables alike.
 */
export function fileOffsetToVaddr(segments: readonly LoadSegment[], fileOffset: bigint): bigint | undefined {
  const segment = segments.find((s) => fileOffset >= s.offset && fileOffset < s.offset + s.filesz);
  return segment === undefined ? undefined : fileOffset - segment.offset + segment.vaddr;
}
