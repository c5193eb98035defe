// The two images as hack/build-images.sh builds them from Dockerfile.agent and
// Dockerfile.operator: they are in its store and exported for containerd,
// start `loupe <command>` as the manifests expect, run Node 24 (the Node the
// images ship, not the machine's), the agent's carries the addon and every
// BPF object the repository builds and opens them with the image's own
// libbpf, and neither holds a compiler. Each image's filesystem is looked at
// through a buildah working container (mounted), and commands run in it with
// `buildah run` (chroot isolation, the image's own user).
//
// Needs root and the built images (`bash hack/build-images.sh`, minutes cold);
// outside CI it skips without them, with CI=true it fails.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { requireKernel } from '../support/privileged.js';
import {
  AGENT_IMAGE,
  buildah,
  loupeImagesBlocker,
  OPERATOR_IMAGE,
  type LoupeImage,
} from '../support/loupe-images.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');

interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  User?: string;
  WorkingDir?: string;
  Env?: string[];
}

/** A working container of the image, with its filesystem mounted. */
interface Opened {
  container: string;
  rootfs: string;
  config: ImageConfig;
}

async function openImage(image: LoupeImage): Promise<Opened> {
  const inspected = JSON.parse(await buildah(['inspect', '--type', 'image', image.reference])) as {
    OCIv1: { config: ImageConfig };
  };
  const config = inspected.OCIv1.config;
  const container = (await buildah(['from', '--pull=never', image.reference])).trim();
  const rootfs = (await buildah(['mount', container])).trim();
  return { container, rootfs, config };
}

/** Runs argv inside the image as its own user; resolves with stdout. */
async function runIn(opened: Opened, argv: string[]): Promise<string> {
  return buildah(['run', '--isolation', 'chroot', opened.container, '--', ...argv]);
}

// Compilers, assemblers and linkers, by file name: gcc, g++, cc, c++, cpp,
// clang(-N), cc1*, collect2, lto1, as, ld(.bfd|.gold|.lld), llc, tcc, and
// their target-prefixed names (x86_64-linux-gnu-gcc-12, ...).
const COMPILER =
  /^(?:[a-z0-9_]+-linux-gnu-)?(?:cc|c\+\+|cpp|gcc|g\+\+|clang|clang\+\+|clang-cpp|cc1|cc1plus|cc1obj|collect2|lto1|as|ld|ld\.bfd|ld\.gold|ld\.lld|lld|llc|tcc)(?:-\d+(?:\.\d+)*)?$/;

/** Every file or symlink under root whose name is a compiler's, as paths inside the image. */
async function compilersIn(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (COMPILER.test(entry.name)) found.push(path.slice(root.length));
    }
  };
  await walk(root);
  return found;
}

/** e_machine of an ELF file (247 is EM_BPF), or undefined when it is not ELF. */
async function elfMachine(path: string): Promise<number | undefined> {
  const file = await open(path);
  try {
    const header = Buffer.alloc(20);
    await file.read(header, 0, 20, 0);
    if (header.subarray(0, 4).toString('latin1') !== '\x7fELF') return undefined;
    return header.readUInt16LE(18);
  } finally {
    await file.close();
  }
}

const EM_BPF = 247;

/** The tag each archive names its image by (index.json's ref.name annotation). */
async function archiveRefNames(archive: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-xOf', archive, 'index.json']);
  const index = JSON.parse(stdout) as { manifests?: { annotations?: Record<string, string> }[] };
  return (index.manifests ?? []).map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '');
}

describe('the images hack/build-images.sh builds', { timeout: 300_000 }, () => {
  let blocker: string | undefined;
  const opened = new Map<LoupeImage, Opened>();

  before(async () => {
    blocker = await loupeImagesBlocker();
    if (blocker !== undefined) return;
    for (const image of [AGENT_IMAGE, OPERATOR_IMAGE]) opened.set(image, await openImage(image));
  });

  after(async () => {
    for (const { container } of opened.values()) await buildah(['rm', container]).catch(() => {});
  });

  /** The opened image, or undefined after skipping (throws in CI). */
  function image(t: TestContext, which: LoupeImage): Opened | undefined {
    if (!requireKernel(t, blocker)) return undefined;
    const found = opened.get(which);
    assert.ok(found, `${which.reference} was not opened`);
    return found;
  }

  for (const [which, command, user] of [
    [AGENT_IMAGE, 'agent', '0'],
    [OPERATOR_IMAGE, 'operator', '65532:65532'],
  ] as const) {
    describe(which.name, () => {
      it(`starts \`loupe ${command}\` as user ${user}`, (t) => {
        const img = image(t, which);
        if (!img) return;
        assert.deepEqual(img.config.Entrypoint, ['node', '/app/dist/cli/loupe.js']);
        assert.deepEqual(img.config.Cmd, [command]);
        assert.equal(img.config.User, user);
        assert.equal(img.config.WorkingDir, '/app');
        assert.ok(img.config.Env?.includes('NODE_ENV=production'), `Env: ${img.config.Env?.join(' ')}`);
      });

      it('runs Node 24 from its own filesystem', async (t) => {
        const img = image(t, which);
        if (!img) return;
        const version = (await runIn(img, ['node', '--version'])).trim();
        assert.match(version, /^v24\.\d+\.\d+$/);
        const abi = (await runIn(img, ['node', '-p', 'process.versions.napi'])).trim();
        assert.ok(Number(abi) >= 9, `N-API ${abi}`);
      });

      it(`loads the whole CLI: \`loupe ${command} --help\` exits 0`, async (t) => {
        const img = image(t, which);
        if (!img) return;
        // loupe.js imports every command, so every module it needs at start
        // (dist and node_modules) resolves on the image's Node.
        const usage = await runIn(img, ['node', '/app/dist/cli/loupe.js', command, '--help']);
        assert.match(usage, new RegExp(`loupe ${command}`));
      });

      it('holds no compiler, assembler or linker', async (t) => {
        const img = image(t, which);
        if (!img) return;
        assert.deepEqual(await compilersIn(img.rootfs), []);
        // And the build stage's toolchain did not leak in by another name.
        for (const dir of ['/usr/lib/gcc', '/usr/lib/llvm-14', '/usr/include/bpf', '/usr/local/include/node']) {
          assert.equal(existsSync(join(img.rootfs, dir)), false, `${dir} is in the image`);
        }
        // Nor the CA bundle the build's RUN steps saw (mounted on /mnt).
        assert.deepEqual(await readdir(join(img.rootfs, 'mnt')), []);
      });

      it('is exported for `ctr images import` under its tag', async (t) => {
        if (!image(t, which)) return;
        const tag = which.reference.slice(which.reference.lastIndexOf(':') + 1);
        assert.deepEqual(await archiveRefNames(which.archive), [tag]);
      });
    });
  }

  describe(AGENT_IMAGE.name, () => {
    it('carries the addon and one BPF object per probes/*/*.bpf.c and bpf/*.bpf.c', async (t) => {
      const img = image(t, AGENT_IMAGE);
      if (!img) return;
      const addon = join(img.rootfs, 'app/native/build/Release/loupe_native.node');
      const machine = process.arch === 'arm64' ? 183 : 62; // EM_AARCH64, EM_X86_64: the images follow the build platform
      assert.equal(await elfMachine(addon), machine, `the addon is an ELF for ${process.arch}`);
      const probeDirs = (await readdir(join(repoRoot, 'probes'), { withFileTypes: true })).filter((d) => d.isDirectory());
      const sourceDirs = [join(repoRoot, 'bpf'), ...probeDirs.map((d) => join(repoRoot, 'probes', d.name))];
      const sources = (await Promise.all(sourceDirs.map((dir) => readdir(dir)))).flat().filter((f) => f.endsWith('.bpf.c'));
      assert.ok(sources.length >= 10, `${sources.length} BPF sources`);
      const objects = await readdir(join(img.rootfs, 'app/bpf/build'));
      assert.deepEqual(objects.sort(), sources.map((f) => f.replace(/\.c$/, '.o')).sort());
      for (const object of objects) {
        assert.equal(await elfMachine(join(img.rootfs, 'app/bpf/build', object)), EM_BPF, `${object} is BPF ELF`);
      }
    });

    it("loads the addon over the image's libbpf and opens every BPF object", async (t) => {
      const img = image(t, AGENT_IMAGE);
      if (!img) return;
      // dlopen of the addon resolves libbpf.so.1, libelf and libz in the image;
      // bpf_object__open parses each object (no kernel load: that is the
      // kernel tests' job).
      const script = `
        import { readdirSync } from 'node:fs';
        const { BpfObject } = await import('/app/dist/native/index.js');
        const opened = [];
        for (const file of readdirSync('/app/bpf/build').sort()) {
          const object = BpfObject.open('/app/bpf/build/' + file);
          opened.push(object.name + ':' + object.programs().length);
          object.close();
        }
        console.log(JSON.stringify(opened));`;
      const out = await runIn(img, ['node', '--input-type=module', '-e', script]);
      const opened = JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as string[];
      const objects = (await readdir(join(img.rootfs, 'app/bpf/build'))).sort();
      assert.deepEqual(
        opened.map((o) => o.split(':')[0]),
        objects.map((f) => basename(f, '.bpf.o')),
      );
      for (const o of opened) assert.ok(Number(o.split(':')[1]) > 0, `${o}: no programs`);
    });
  });

  describe(OPERATOR_IMAGE.name, () => {
    it('carries neither the addon, nor the probes, nor libbpf', async (t) => {
      const img = image(t, OPERATOR_IMAGE);
      if (!img) return;
      for (const path of ['app/native/build', 'app/bpf']) {
        assert.equal(existsSync(join(img.rootfs, path)), false, `/${path} is in the operator image`);
      }
      const libs = await readdir(join(img.rootfs, 'usr/lib', `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`));
      assert.deepEqual(
        libs.filter((l) => l.startsWith('libbpf')),
        [],
      );
      // The operator runs as 65532: everything under /app is readable to it.
      const stat = await lstat(join(img.rootfs, 'app/dist/cli/loupe.js'));
      assert.ok(stat.mode & 0o004, 'loupe.js is world-readable');
    });
  });
});
