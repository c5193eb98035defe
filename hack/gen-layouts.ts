// `npm run layouts`: writes, beside each C header that declares structs the
// kernel side shares with user space, the TypeScript layout of those structs,
// from the BTF of bpf/contract.c: probes/<name>/<name>.h gives
// probes/<name>/layout.generated.ts, bpf/loupe.h gives
// engine/probes/layouts.generated.ts. So the byte layout of every such struct
// is written once, in C. Each struct becomes its size and, per member, its
// offset and size (and element size, for arrays).
//
//   tsx hack/gen-layouts.ts [contract object]     (default: bpf/build/contract.o; `make -C bpf contract` builds it)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';

const repoRoot = join(import.meta.dirname, '..');
export const CONTRACT_OBJECT = join(repoRoot, 'bpf', 'build', 'contract.o');
const CONTRACT_PREFIX = 'loupe_contract_';

/** Each header of the contract and the generated file its structs go to. */
export function contractHeaders(): { header: string; output: string }[] {
  const probes = join(repoRoot, 'probes');
  return [
    { header: join(repoRoot, 'bpf', 'loupe.h'), output: join(repoRoot, 'engine', 'probes', 'layouts.generated.ts') },
    ...readdirSync(probes, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => ({ header: join(probes, d.name, `${d.name}.h`), output: join(probes, d.name, 'layout.generated.ts') }))
      // A probe that shares another's structs (tls: http's) has no header of its own.
      .filter(({ header }) => existsSync(header)),
  ];
}

/** The named structs a header declares (`struct name {` at the start of a line, as the Makefile finds them). */
export function structsDeclaredIn(header: string): string[] {
  return [...readFileSync(header, 'utf8').matchAll(/^struct (\w+) \{/gm)].map((m) => m[1]!);
}

// What `bpftool btf dump ... format raw -j` prints, as far as layouts need it.
const BtfTypeSchema = z.object({
  id: z.number(),
  kind: z.string(),
  name: z.string().optional(),
  size: z.number().optional(),
  type_id: z.number().optional(),
  nr_elems: z.number().optional(),
  encoding: z.string().optional(),
  members: z.array(z.object({ name: z.string(), type_id: z.number(), bits_offset: z.number(), bitfield_size: z.number().optional() })).optional(),
});
type BtfType = z.infer<typeof BtfTypeSchema>;
const BtfDumpSchema = z.object({ types: z.array(BtfTypeSchema) });

/** How user space reads a member: an integer (u/s and bits), an array of u32 or u64, a C string, or raw bytes. */
export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64' | 'u32[]' | 'u64[]' | 'chars' | 'bytes';
export interface FieldLayout { offset: number; size: number; type: FieldType }
export interface StructLayout { name: string; size: number; fields: Record<string, FieldLayout> }

/** The layouts of the contract's structs, by struct name, from the object's BTF. */
export function layoutsFromObject(object: string): Record<string, StructLayout> {
  const dump = BtfDumpSchema.parse(JSON.parse(execFileSync('bpftool', ['btf', 'dump', 'file', object, 'format', 'raw', '-j'], { encoding: 'utf8', maxBuffer: 64 << 20 })));
  const byId = new Map(dump.types.map((t) => [t.id, t]));
  const type = (id: number | undefined): BtfType => {
    const found = id === undefined ? undefined : byId.get(id);
    if (found === undefined) throw new Error(`${object}: BTF type ${id} is missing`);
    return found;
  };
  /** Through typedefs and qualifiers to the type that has a size. */
  const resolved = (id: number | undefined): BtfType => {
    const t = type(id);
    return ['TYPEDEF', 'CONST', 'VOLATILE', 'RESTRICT'].includes(t.kind) ? resolved(t.type_id) : t;
  };
  const sizeOf = (id: number | undefined): number => {
    const t = resolved(id);
    if (t.kind === 'ARRAY') return (t.nr_elems ?? 0) * sizeOf(t.type_id);
    if (t.size === undefined) throw new Error(`${object}: BTF ${t.kind} ${t.name ?? t.id} has no size`);
    return t.size;
  };
  /** A member's FieldType, from its BTF type: integers and enums by size and sign, arrays by element. */
  const fieldType = (id: number): FieldType => {
    const t = resolved(id);
    if (t.kind === 'INT' || t.kind === 'ENUM') return `${t.encoding === 'SIGNED' && t.name !== 'char' ? 's' : 'u'}${sizeOf(id) * 8}` as FieldType;
    if (t.kind === 'ARRAY') {
      const element = resolved(t.type_id);
      if (element.kind === 'INT' && element.name === 'char') return 'chars';
      if (element.kind === 'INT' && element.encoding !== 'SIGNED' && (element.size === 4 || element.size === 8)) return `u${element.size * 8}[]` as FieldType;
    }
    return 'bytes';
  };
  const layouts: Record<string, StructLayout> = {};
  for (const variable of dump.types.filter((t) => t.kind === 'VAR' && t.name?.startsWith(CONTRACT_PREFIX))) {
    const struct = resolved(variable.type_id);
    if (struct.kind !== 'STRUCT' || struct.name === undefined) throw new Error(`${variable.name} is not a named struct`);
    const fields: Record<string, FieldLayout> = {};
    for (const member of struct.members ?? []) {
      if (member.bitfield_size || member.bits_offset % 8 !== 0) throw new Error(`${struct.name}.${member.name}: bitfields are not part of the contract`);
      fields[member.name] = { offset: member.bits_offset / 8, size: sizeOf(member.type_id), type: fieldType(member.type_id) };
    }
    layouts[struct.name] = { name: struct.name, size: sizeOf(struct.id), fields };
  }
  return layouts;
}

export function layoutsSource(layouts: Record<string, StructLayout>, header: string): string {
  const lines = [
    `// Generated by hack/gen-layouts.ts from ${relative(repoRoot, header)}, through the BTF of bpf/contract.c: do not edit (\`npm run layouts\`).`,
    '// Byte offsets, sizes and types of the structs the BPF programs share with user space,',
    '// little-endian as both x86_64 and arm64 are; engine/probes/kernel-decode.ts decodes by them.',
    '// test/unit/bpf-layouts.test.ts fails when they drift.',
    'export const layouts = {',
  ];
  for (const [name, layout] of Object.entries(layouts).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${name}: {`, `    name: '${name}',`, `    size: ${layout.size},`, '    fields: {');
    for (const [field, f] of Object.entries(layout.fields)) lines.push(`      ${field}: { offset: ${f.offset}, size: ${f.size}, type: '${f.type}' },`);
    lines.push('    },', '  },');
  }
  lines.push('} as const;', '');
  return lines.join('\n');
}

/** Every generated file's path and text: each header's structs, from the contract object's layouts. */
export function layoutFiles(layouts: Record<string, StructLayout>): { path: string; source: string }[] {
  return contractHeaders().map(({ header, output }) => {
    const own = Object.fromEntries(structsDeclaredIn(header).map((name) => {
      const layout = layouts[name];
      if (layout === undefined) throw new Error(`struct ${name} of ${header} is not in the contract object (make -C bpf contract)`);
      return [name, layout];
    }));
    return { path: output, source: layoutsSource(own, header) };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of layoutFiles(layoutsFromObject(process.argv[2] ?? CONTRACT_OBJECT))) {
    writeFileSync(file.path, file.source);
    console.log(`gen-layouts: wrote ${relative(repoRoot, file.path)}`);
  }
}
