// `npm run crds`: writes crds/ and config/crd/ from the zod schemas in api/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCrdFiles } from './crd.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const [path, text] of renderCrdFiles()) {
  const target = join(repoRoot, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(`wrote ${path}`);
}
