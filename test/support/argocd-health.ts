// Runs the Argo CD health check (config/argocd/traceprofile-health.lua) with a
// real Lua interpreter, as Argo does: `obj` set to the object, the script's
// returned status and message read back. `obj` reaches Lua as a table literal
// made by toLuaLiteral (no Lua JSON library needed).
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ARGOCD_DIR = join(import.meta.dirname, '..', '..', 'config', 'argocd');
export const HEALTH_SCRIPT = join(ARGOCD_DIR, 'traceprofile-health.lua');
export const LUA = 'lua5.4';

/** Why Lua tests cannot run, or false; in CI a missing interpreter is a failure (hack/setup.sh installs it). */
export function luaSkip(): string | false {
  try {
    execFileSync(LUA, ['-v'], { stdio: 'ignore' });
    return false;
  } catch {
    const reason = `${LUA} is not installed (apt-get install lua5.4, or npm run setup)`;
    if (process.env.CI === 'true') throw new Error(`cannot run in CI: ${reason}`);
    return reason;
  }
}

/** A Lua expression for a JSON value: objects and arrays become tables, null becomes nil. */
export function toLuaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${value} has no JSON form`);
    return String(value);
  }
  if (typeof value === 'string') return luaString(value);
  if (Array.isArray(value)) return `{${value.map(toLuaLiteral).join(', ')}}`;
  if (typeof value === 'object') {
    const fields = Object.entries(value).map(([key, v]) => `[${luaString(key)}] = ${toLuaLiteral(v)}`);
    return `{${fields.join(', ')}}`;
  }
  throw new Error(`cannot express ${typeof value} in Lua`);
}

// Byte by byte over UTF-8: printable ASCII stays, quotes and backslashes are
// escaped, everything else is \ddd (three digits, so a following digit is not
// swallowed), which Lua 5.1 and 5.4 read alike.
export function luaString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString().padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** Runs a Lua chunk on stdin and returns what it wrote. */
export async function runLua(chunk: string): Promise<string> {
  const child = run(LUA, ['-'], { encoding: 'utf8' });
  child.child.stdin?.end(chunk);
  return (await child).stdout;
}

export interface Health {
  status: string;
  message: string;
}

/** What Argo CD would show for this object. */
export async function argoHealth(obj: object): Promise<Health> {
  const stdout = await runLua([
    `obj = ${toLuaLiteral(obj)}`,
    `local hs = dofile(${luaString(HEALTH_SCRIPT)})`,
    // A tab separates the two; messages never contain one.
    'io.write(tostring(hs.status), "\\t", tostring(hs.message))',
  ].join('\n'));
  const [status = '', message = ''] = stdout.split('\t');
  return { status, message };
}
