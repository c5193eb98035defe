// The machine-wide sysctls a kubelet rewrites when it starts (vm.overcommit_memory=1,
// kernel.panic=10, kernel.panic_on_oops=1, ...: setupKernelTunables). A test node
// must not leave them changed: with panic_on_oops=1 an oops in a BPF program under
// development reboots the machine. The values are saved to a file as well, so a
// run that crashed is put right by the next one.
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Every sysctl kubelet 1.37 sets (pkg/kubelet/cm/container_manager_linux.go). */
export const KUBELET_SYSCTLS = [
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
] as const;

const procPath = (name: string) => join('/proc/sys', ...name.split('.'));

export async function readSysctls(names: readonly string[] = KUBELET_SYSCTLS): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const name of names) values[name] = (await readFile(procPath(name), 'utf8')).trim();
  return values;
}

/** Writes back every value that differs; returns the names it changed. */
export async function writeSysctls(values: Record<string, string>): Promise<string[]> {
  const changed: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if ((await readFile(procPath(name), 'utf8')).trim() === value) continue;
    await writeFile(procPath(name), `${value}\n`);
    changed.push(name);
  }
  return changed;
}

export interface SavedSysctls {
  readonly values: Readonly<Record<string, string>>;
  /** Puts every saved value back (again and again: kubelet is not asked). */
  restore(): Promise<string[]>;
  /** Restores and forgets the saved file: the node is gone. */
  release(): Promise<void>;
}

/** Saves the current values to memory and to `file` before a kubelet changes them. */
export async function saveSysctls(file: string): Promise<SavedSysctls> {
  const values = await readSysctls();
  await writeFile(file, JSON.stringify(values));
  const restore = () => writeSysctls(values);
  return {
    values,
    restore,
    release: async () => {
      await restore();
      await rm(file, { force: true });
    },
  };
}

/** After a crash: restores what an earlier run saved, if its file is still there. */
export async function restoreSavedSysctls(file: string): Promise<string[]> {
  if (!existsSync(file)) return [];
  const values = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
  const changed = await writeSysctls(values);
  await rm(file, { force: true });
  return changed;
}
