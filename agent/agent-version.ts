// The version an agent reports in status: the package's, found by walking up
// from this module (sources under tsx and dist/ alike), or LOUPE_AGENT_VERSION.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function agentVersion(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LOUPE_AGENT_VERSION) return env.LOUPE_AGENT_VERSION;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
      return typeof version === 'string' ? version : 'unknown';
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}
