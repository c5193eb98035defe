// The uprobes of one libssl file, and the linker that attaches them to every
// libssl the targeted processes map as they come and go.
import type { BpfLink, BpfObject } from '../../native/index.js';
import { CgroupDirectories } from '../../engine/cgroup/cgroup-processes.js';
import { findCgroup2Mount } from '../../engine/cgroup/mount.js';
import type { TargetLinker } from '../../engine/probes/probe.js';
import { LibsslDiscovery, type LibraryFile } from './libssl-discovery.js';

interface SslFunction {
  symbol: string;
  /** Programs of tls.bpf.c at its entry and at its return. */
  entry: string;
  exit: string;
  /** The _ex forms came with OpenSSL 1.1.1; a library without them still gets the others. */
  optional: boolean;
}

export const SSL_FUNCTIONS: readonly SslFunction[] = [
  { symbol: 'SSL_read', entry: 'loupe_ssl_read', exit: 'loupe_ssl_read_ret', optional: false },
  { symbol: 'SSL_write', entry: 'loupe_ssl_write', exit: 'loupe_ssl_write_ret', optional: false },
  { symbol: 'SSL_read_ex', entry: 'loupe_ssl_read_ex', exit: 'loupe_ssl_read_ex_ret', optional: true },
  { symbol: 'SSL_write_ex', entry: 'loupe_ssl_write_ex', exit: 'loupe_ssl_write_ex_ret', optional: true },
];

/**
 * Entry and return uprobes on each function of one library, for every
 * process (pid -1) mapping it. All or nothing for the required functions; an
 * optional one the library lacks is left out.
 */
export function attachSslUprobes(obj: BpfObject, binaryPath: string): BpfLink[] {
  const links: BpfLink[] = [];
  try {
    for (const fn of SSL_FUNCTIONS) {
      let entry: BpfLink;
      try {
        entry = obj.program(fn.entry).attachUprobe({ binaryPath, functionName: fn.symbol });
      } catch (err) {
        if (fn.optional) continue;
        throw err;
      }
      links.push(entry);
      // A return whose entry was not seen (a call in flight while attaching) finds nothing stashed and is ignored.
      links.push(obj.program(fn.exit).attachUprobe({ binaryPath, functionName: fn.symbol, retprobe: true }));
    }
  } catch (err) {
    for (const link of links) link.destroy();
    throw err;
  }
  return links;
}

/** Attaches the uprobes to each libssl the targeted processes map, once per file. */
export function sslTargetLinker(obj: BpfObject): TargetLinker {
  const discovery = new LibsslDiscovery(new CgroupDirectories(findCgroup2Mount()));
  const attach = (library: LibraryFile): { links: BpfLink[]; problem?: string } => {
    try {
      return { links: attachSslUprobes(obj, library.file) };
    } catch (err) {
      return { links: [], problem: `${library.file}: ${err instanceof Error ? err.message : String(err)}` };
    }
  };
  return {
    link(cgroupIds) {
      const attached = discovery.newLibraries(cgroupIds).map(attach);
      return { links: attached.flatMap((a) => a.links), problems: attached.flatMap((a) => a.problem ?? []) };
    },
  };
}
