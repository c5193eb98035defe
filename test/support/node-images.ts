// The images a test node runs, built here because no registry is reachable:
// the pod sandbox (a static pause binary, images/pause.c) and a workload (Debian's
// static busybox with a link for each applet, so `sh`, `true`, `cat` and `nc` are
// in /bin, images/ground-truth.c, whose execs, opens and connects are known, and
// images/load.c, a steady rate of execs and syscalls).
// Each is an OCI layout made with umoci, tarred and imported into
// containerd's k8s.io namespace, so kubelet finds it with imagePullPolicy: Never.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** containerd's CRI sandbox_image: kubelet 1.37 has no flag for it. */
export const PAUSE_IMAGE = 'localhost/pause:loupe';
/**
 * A static busybox at /bin/busybox and each applet linked to it (/bin/sh, /bin/true,
 * ...), /bin/ground-truth with the file it opens, /etc/loupe-ground-truth, and /bin/load;
 * PATH=/bin; runs `sleep 3600` unless a pod gives a command.
 */
export const WORKLOAD_IMAGE = 'localhost/loupe-workload:loupe';
export const BUSYBOX = '/bin/busybox';

const PAUSE_SOURCE = join(import.meta.dirname, 'images', 'pause.c');
/** In WORKLOAD_IMAGE: `ground-truth <execs> <opens> <connects>` (see images/ground-truth.c). */
export const GROUND_TRUTH = '/bin/ground-truth';
/** In WORKLOAD_IMAGE: `load <execs/s> <syscalls/s>` (see images/load.c). */
export const LOAD = '/bin/load';
/** Static programs of WORKLOAD_IMAGE, each from images/<name>.c to /bin/<name>. */
const WORKLOAD_PROGRAMS = [GROUND_TRUTH, LOAD];
export const GROUND_TRUTH_FILE = '/etc/loupe-ground-truth';

interface ImageSpec {
  /** The full reference: localhost/<name>:<tag>. */
  reference: string;
  /** Fills a directory that becomes the image's root filesystem. */
  stage(root: string): Promise<void>;
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
}

/** Builds both images under dir and imports them into the containerd at `address`. */
export async function buildAndImportNodeImages(dir: string, address: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const pauseBinary = join(dir, 'pause');
  await run('gcc', ['-static', '-Os', '-s', '-o', pauseBinary, PAUSE_SOURCE]);
  for (const program of WORKLOAD_PROGRAMS) {
    const name = basename(program);
    await run('gcc', ['-static', '-O2', '-s', '-Wall', '-Werror', '-o', join(dir, name), join(import.meta.dirname, 'images', `${name}.c`)]);
  }
  const images: ImageSpec[] = [
    {
      reference: PAUSE_IMAGE,
      stage: (root) => copyFile(pauseBinary, join(root, 'pause')),
      entrypoint: ['/pause'],
      user: '65535:65535',
    },
    {
      reference: WORKLOAD_IMAGE,
      stage: async (root) => {
        await mkdir(join(root, 'bin'));
        await copyFile(BUSYBOX, join(root, 'bin', 'busybox'));
        const { stdout } = await run(BUSYBOX, ['--list']);
        for (const applet of stdout.split('\n')) {
          if (applet && applet !== 'busybox') await symlink('busybox', join(root, 'bin', applet));
        }
        for (const program of WORKLOAD_PROGRAMS) await copyFile(join(dir, basename(program)), join(root, program));
        await mkdir(join(root, 'etc'));
        await writeFile(join(root, GROUND_TRUTH_FILE), 'opened by ground-truth\n');
      },
      cmd: ['/bin/sleep', '3600'],
    },
  ];
  for (const image of images) {
    const archive = await buildImage(dir, image);
    await importImage(address, archive, image.reference);
  }
}

function splitReference(reference: string): { name: string; tag: string } {
  const colon = reference.lastIndexOf(':');
  return { name: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}

/** An OCI layout with one tagged image, as a tar archive; returns the archive's path. */
async function buildImage(dir: string, image: ImageSpec): Promise<string> {
  const { name, tag } = splitReference(image.reference);
  const layout = join(dir, name.replaceAll('/', '_'));
  const ref = `${layout}:${tag}`;
  const root = `${layout}.rootfs`;
  await mkdir(root, { mode: 0o755 });
  await image.stage(root);
  await run('umoci', ['init', '--layout', layout]);
  await run('umoci', ['new', '--image', ref]);
  await run('umoci', ['insert', '--image', ref, root, '/']);
  const config = ['config', '--image', ref, '--config.env', 'PATH=/bin'];
  for (const arg of image.entrypoint ?? []) config.push('--config.entrypoint', arg);
  for (const arg of image.cmd ?? []) config.push('--config.cmd', arg);
  if (image.user) config.push('--config.user', image.user);
  await run('umoci', config);
  await run('umoci', ['gc', '--layout', layout]);
  const archive = `${layout}.tar`;
  await run('tar', ['-C', layout, '-cf', archive, '.']);
  return archive;
}

/**
 * `ctr images import --base-name`: the archive's tag (its ref.name annotation)
 * is appended to the base name, giving back image.reference.
 */
export async function importImage(address: string, archive: string, reference: string): Promise<void> {
  const { name } = splitReference(reference);
  await run('ctr', ['--address', address, '--namespace', 'k8s.io', 'images', 'import', '--base-name', name, archive]);
  const { stdout } = await run('ctr', ['--address', address, '--namespace', 'k8s.io', 'images', 'list', '--quiet']);
  if (!stdout.split('\n').includes(reference)) {
    throw new Error(`ctr images import of ${archive} did not produce ${reference}; containerd has: ${stdout.trim().replaceAll('\n', ', ')}`);
  }
}
