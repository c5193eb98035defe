// Where hack/build-images.sh leaves Loupe's own two images: in a buildah
// store of its own under the cache, and as OCI archives beside it that
// `ctr -n k8s.io images import --base-name <name>` turns back into
// <name>:<tag>. The paths and names here are the script's; keep them in step.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');

/** $LOUPE_CACHE/images: the base rootfs, Node tarballs, buildah's store, the archives. */
export const IMAGE_CACHE = join(process.env.LOUPE_CACHE ?? join(homedir(), '.cache', 'loupe'), 'images');
const STORE = join(IMAGE_CACHE, 'storage');
const RUNROOT = join('/run/loupe-buildah', createHash('sha256').update(STORE).digest('hex').slice(0, 12));

export const IMAGE_TAG: string =
  process.env.LOUPE_IMAGE_TAG ?? (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

export interface LoupeImage {
  /** loupe-agent or loupe-operator: also the Dockerfile's suffix. */
  name: string;
  /** The name to give `ctr images import --base-name`. */
  baseName: string;
  /** localhost/<name>:<tag>, in the script's store and after the import. */
  reference: string;
  /** The OCI archive (gzip layers; its ref.name annotation is the tag). */
  archive: string;
}

function image(name: string): LoupeImage {
  const baseName = `localhost/${name}`;
  return { name, baseName, reference: `${baseName}:${IMAGE_TAG}`, archive: join(IMAGE_CACHE, `${name}.oci.tar`) };
}

export const AGENT_IMAGE = image('loupe-agent');
export const OPERATOR_IMAGE = image('loupe-operator');

/** The command that builds them (minutes cold, seconds when nothing changed). */
export const BUILD_IMAGES_COMMAND = 'bash hack/build-images.sh';

/** buildah against the script's store; resolves with stdout, rejects with stderr in the message. */
export async function buildah(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('buildah', ['--root', STORE, '--runroot', RUNROOT, '--storage-driver', 'overlay', ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const failed = err as Error & { stderr?: string };
    throw new Error(`buildah ${args.join(' ')}: ${failed.stderr?.trim() || failed.message}`);
  }
}

/** Why the built images cannot be used here, or undefined. */
export async function loupeImagesBlocker(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "needs root (hack/build-images.sh's buildah store is root's)";
  try {
    await run('buildah', ['--version']);
  } catch {
    return 'needs buildah (apt-get install buildah; hack/build-images.sh installs it)';
  }
  for (const image of [AGENT_IMAGE, OPERATOR_IMAGE]) {
    try {
      await buildah(['inspect', '--type', 'image', '--format', '{{.FromImageID}}', image.reference]);
    } catch {
      return `${image.reference} is not built: run ${BUILD_IMAGES_COMMAND}`;
    }
    if (!existsSync(image.archive)) return `${image.archive} is missing: run ${BUILD_IMAGES_COMMAND}`;
  }
  return undefined;
}
