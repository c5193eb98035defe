import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { ElfFormatError, fileOffsetToVaddr, readElfSymbols } from '../../engine/symbolize/elf.js';
import { KernelSymbols } from '../../engine/symbolize/kallsyms.js';
import { LruCache } from '../../engine/symbolize/lru.js';
import { parseProcMaps } from '../../engine/symbolize/proc-maps.js';
import { SymbolTable } from '../../engine/symbolize/symbol-table.js';
import { Symbolizer, UNKNOWN_FUNCTION } from '../../engine/symbolize/symbolizer.js';

describe('SymbolTable', () => {
  const table = new SymbolTable([
    { start: 0x2000n, size: 0x10n, name: 'b' },
    { start: 0x1000n, size: 0x100n, name: 'a' },
    { start: 0x1000n, size: 0n, name: 'a_alias' },
    { start: 0x3000n, size: 0n, name: 'c' },
  ]);

  it('finds the symbol whose range holds an address', () => {
    assert.equal(table.lookup(0x1000n), 'a', 'a sized symbol wins over a label at the same address');
    assert.equal(table.lookup(0x10ffn), 'a');
    assert.equal(table.lookup(0x200fn), 'b');
  });

  it('leaves gaps, addresses before the first symbol, and the end of sized symbols unknown', () => {
    assert.equal(table.lookup(0xfffn), undefined);
    assert.equal(table.lookup(0x1100n), undefined);
    assert.equal(table.lookup(0x2010n), undefined);
  });

  it('runs a symbol of unknown size to the next one, or to the end given', () => {
    assert.equal(table.lookup(0x3000n + 0x123456n), 'c');
    assert.equal(new SymbolTable([{ start: 0x3000n, size: 0n, name: 'c' }], 0x3010n).lookup(0x3010n), undefined);
  });
});

describe('kallsyms', () => {
  const symbols = KernelSymbols.parse(
    [
      'ffffffff81000000 T _text',
      'ffffffff81000100 t do_one_thing',
      'ffffffff81000200 D some_data',
      'ffffffff81000300 W weak_fn',
      'ffffffffc0a00000 t nf_thing\t[nf_conntrack]',
      '',
    ].join('\n'),
  );

  it('keeps text symbols only, with their module', () => {
    assert.equal(symbols.size, 4);
    assert.deepEqual(symbols.lookup(0xffffffff81000150n), { name: 'do_one_thing', module: 'kernel' });
    assert.deepEqual(symbols.lookup(0xffffffff81000250n), { name: 'do_one_thing', module: 'kernel' }, 'data symbols do not end a function');
    assert.deepEqual(symbols.lookup(0xffffffff81000300n), { name: 'weak_fn', module: 'kernel' });
    assert.deepEqual(symbols.lookup(0xffffffffc0a00010n), { name: 'nf_thing', module: 'nf_conntrack' });
    assert.equal(symbols.lookup(0xffffffff80000000n), undefined);
  });

  it('is empty when addresses are hidden (kptr_restrict)', () => {
    assert.equal(KernelSymbols.parse('0000000000000000 T _text\n0000000000000000 t f\n').size, 0);
  });

  it('reads the running kernel', () => {
    const kernel = KernelSymbols.load();
    if (kernel.size === 0) return; // not root: addresses hidden
    const text = /^([0-9a-f]+) T _text$/m.exec(execFileSync('grep', ['-m1', ' T _text$', '/proc/kallsyms'], { encoding: 'utf8' }));
    assert.ok(text);
    assert.equal(kernel.lookup(BigInt(`0x${text[1]}`))?.module, 'kernel');
  });
});

describe('proc maps', () => {
  it('keeps executable file mappings with their offsets', () => {
    const maps = parseProcMaps(
      [
        '55d0c8a00000-55d0c8a01000 r--p 00000000 08:01 1234                       /usr/bin/x',
        '55d0c8a01000-55d0c8a02000 r-xp 00001000 08:01 1234                       /usr/bin/x',
        '7f0000000000-7f0000001000 rwxp 00000000 00:00 0 ',
        '7ffd1c3fe000-7ffd1c400000 r-xp 00000000 00:00 0                          [vdso]',
        '7f1000000000-7f1000100000 r-xp 00028000 08:01 99   /usr/lib/lib with space.so (deleted)',
      ].join('\n'),
    );
    assert.deepEqual(maps, [
      { start: 0x55d0c8a01000n, end: 0x55d0c8a02000n, offset: 0x1000n, path: '/usr/bin/x' },
      { start: 0x7ffd1c3fe000n, end: 0x7ffd1c400000n, offset: 0n, path: '[vdso]' },
      { start: 0x7f1000000000n, end: 0x7f1000100000n, offset: 0x28000n, path: '/usr/lib/lib with space.so (deleted)' },
    ]);
  });
});

describe('LruCache', () => {
  it('evicts the least recently used beyond its entries or its weight', () => {
    const lru = new LruCache<string, number>(2, 10);
    lru.set('a', 1, 3);
    lru.set('b', 2, 3);
    lru.get('a');
    lru.set('c', 3, 3);
    assert.equal(lru.get('b'), undefined, 'b was least recently used');
    assert.equal(lru.get('a'), 1);
    lru.set('big', 4, 9);
    assert.equal(lru.size, 1, 'weight 9 + anything else is over 10');
    lru.set('huge', 5, 50);
    assert.deepEqual([lru.size, lru.get('huge')], [1, 5], 'the newest entry stays even alone over the bound');
  });
});

// A real PIE executable and shared object, built here, run here: the
// addresses the process prints of its own functions must symbolize to them.
describe('ELF symbols of real binaries', () => {
  let dir: string;
  let child: ChildProcess;
  let printed: Record<string, bigint>;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'loupe-symbolize-'));
    writeFileSync(path.join(dir, 'lib.c'), 'int loupe_test_lib_function(int x) { return x * 3 + 1; }\n');
    writeFileSync(
      path.join(dir, 'main.c'),
      [
        '#include <stdio.h>',
        '#include <unistd.h>',
        'int loupe_test_lib_function(int x);',
        'static int loupe_test_static_function(int x) { return x + 7; }',
        'int main(void) {',
        '  printf("static %p\\nlib %p\\n", (void *)loupe_test_static_function, (void *)loupe_test_lib_function);',
        '  fflush(stdout);',
        '  pause();',
        '  return loupe_test_static_function(loupe_test_lib_function(1));',
        '}',
      ].join('\n'),
    );
    execFileSync('cc', ['-O0', '-g', '-shared', '-fPIC', '-o', path.join(dir, 'libloupetest.so'), path.join(dir, 'lib.c')]);
    const link = [path.join(dir, 'main.c'), `-L${dir}`, '-lloupetest', `-Wl,-rpath,${dir}`];
    execFileSync('cc', ['-O0', '-g', '-fPIE', '-pie', '-o', path.join(dir, 'prog'), ...link]);
    execFileSync('cc', ['-O0', '-s', '-fPIE', '-pie', '-o', path.join(dir, 'stripped'), ...link]);
  });

  after(() => {
    child?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(binary: string): Promise<void> {
    child?.kill();
    child = spawn(path.join(dir, binary), [], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.setEncoding('utf8');
    while (!/lib 0x[0-9a-f]+\n/.test(out)) {
      const [chunk] = (await once(child.stdout!, 'data')) as [string];
      out += chunk;
    }
    printed = Object.fromEntries([...out.matchAll(/(\w+) 0x([0-9a-f]+)/g)].map((m) => [m[1]!, BigInt(`0x${m[2]}`)]));
  }

  it('reads function symbols and load segments of the executable', () => {
    const elf = readElfSymbols(path.join(dir, 'prog'));
    assert.ok(elf.segments.length >= 2);
    const nm = execFileSync('nm', [path.join(dir, 'prog')], { encoding: 'utf8' });
    const address = BigInt(`0x${/^([0-9a-f]+) t loupe_test_static_function$/m.exec(nm)![1]}`);
    assert.equal(elf.symbols.lookup(address + 2n), 'loupe_test_static_function');
    assert.equal(fileOffsetToVaddr(elf.segments, 0n), elf.segments[0]!.vaddr);
  });

  it('symbolizes live addresses in a PIE executable and a shared object', async () => {
    await start('prog');
    const symbolizer = new Symbolizer();
    const frames = symbolizer.process(child.pid!).frames([printed.static! + 4n, printed.lib! + 4n]);
    assert.deepEqual(frames, [
      { name: 'loupe_test_static_function', module: 'prog', kernel: false },
      { name: 'loupe_test_lib_function', module: 'libloupetest.so', kernel: false },
    ]);
  });

  it('says [unknown] with the module when a binary has no symbol for the address', async () => {
    await start('stripped');
    const symbolizer = new Symbolizer();
    const [frame, unmapped] = symbolizer.process(child.pid!).frames([printed.static!, 0x10n]);
    assert.deepEqual(frame, { name: UNKNOWN_FUNCTION, module: 'stripped', kernel: false });
    assert.deepEqual(unmapped, { name: UNKNOWN_FUNCTION, module: UNKNOWN_FUNCTION, kernel: false });
  });

  it('reads a deleted binary through map_files (root only)', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('/proc/<pid>/map_files needs CAP_SYS_ADMIN');
    copyFileSync(path.join(dir, 'prog'), path.join(dir, 'prog-deleted'));
    await start('prog-deleted');
    rmSync(path.join(dir, 'prog-deleted'));
    const [frame] = new Symbolizer().process(child.pid!).frames([printed.static! + 4n]);
    assert.deepEqual(frame, { name: 'loupe_test_static_function', module: 'prog-deleted', kernel: false });
  });

  it('says [unknown] for every frame of a process that has exited', () => {
    assert.deepEqual(new Symbolizer().process(1, undefined).frames([0x401000n]), [
      { name: UNKNOWN_FUNCTION, module: UNKNOWN_FUNCTION, kernel: false },
    ]);
  });

  it('rejects files that are not ELF', () => {
    assert.throws(() => readElfSymbols(path.join(dir, 'main.c')), /main\.c is not an ELF file/);
    assert.throws(() => readElfSymbols(path.join(dir, 'lib.c')), ElfFormatError, 'shorter than an ELF header');
  });
});
