// `loupe trace` input handling: flag parsing in-process, and the CLI's
// one-line errors by spawning it, the way a user meets them.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { traceBlocker } from '../../cli/trace-command.js';
import { parseTraceOptions, UsageError } from '../../cli/trace/trace-options.js';
import { PROBE_NAMES } from '../../probes/registry.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function loupe(args: string[], options: SpawnSyncOptions = {}, node = process.execPath) {
  const r = spawnSync(node, ['--import', 'tsx', 'cli/loupe.ts', ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 30_000,
    ...options,
  });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/**
 * This Node at a path any user can execute: the Node 24 that set-up installs
 * lives under root's home (mode 0700), out of reach of uid 65534.
 */
function nodeForAnyUser(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loupe-node-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const node = path.join(dir, 'node');
  try {
    linkSync(process.execPath, node);
  } catch {
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
  }
  return node;
}

const ID = 'c0ffee'.repeat(10) + 'c0de';

describe('loupe trace flags', () => {
  it('defaults to every probe, 1s refresh, top 10, text, until Ctrl-C', () => {
    const o = parseTraceOptions(['--pid', '1']);
    assert.deepEqual(o, {
      targets: [{ kind: 'pid', value: 1 }],
      probes: [...PROBE_NAMES],
      interval: 1000,
      top: 10,
      output: 'text',
      help: false,
    });
  });

  it('takes repeated targets in command-line order, and every option', () => {
    const o = parseTraceOptions([
      '--cgroup', '/a', '--pid', '7', '--container', `containerd://${ID}`, '--cgroup', '/b', '--pid', '8',
      '--probes', 'tcp, exec,tcp', '--duration', '1h30m', '--interval', '250ms', '--top', '3', '--output', 'json',
    ]);
    assert.deepEqual(o.targets, [
      { kind: 'cgroup', value: '/a' },
      { kind: 'pid', value: 7 },
      { kind: 'container', value: `containerd://${ID}` },
      { kind: 'cgroup', value: '/b' },
      { kind: 'pid', value: 8 },
    ]);
    assert.deepEqual(o.probes, ['tcp', 'exec']);
    assert.equal(o.duration, 5_400_000);
    assert.equal(o.interval, 250);
    assert.equal(o.top, 3);
    assert.equal(o.output, 'json');
  });

  const bad: [string[], string][] = [
    [[], 'no target: give at least one --cgroup PATH, --container ID or --pid PID'],
    [['--pid', '1', '--probes', 'exec,nope'], `unknown probe "nope": choose from ${PROBE_NAMES.join(', ')}`],
    [['--pid', '1', '--probes', ','], `--probes is empty: choose from ${PROBE_NAMES.join(', ')}`],
    [['--pid', '1', '--duration', '10'], '--duration: invalid duration "10": use a number and a unit (h, m, s, ms), e.g. 30s, 5m, 1h30m'],
    [['--pid', '1', '--duration', '0s'], '--duration must be longer than 0 (leave it out to trace until Ctrl-C)'],
    [['--pid', '1', '--interval', '10ms'], '--interval must be at least 100ms'],
    [['--pid', 'one'], '--pid "one": expected a whole number from 1 to 4194304'],
    [['--pid', '1', '--top', '51'], '--top "51": expected a whole number from 1 to 50'],
    [['--pid', '1', '--output', 'yaml'], '--output must be text or json'],
    [['--container', 'abc'], '--container "abc": expected 64 hex digits, optionally prefixed with containerd://, cri-o:// or docker://'],
    [['--pid', '1', '--bogus'], "unknown option '--bogus' (see loupe trace --help)"],
    [['--pid'], "option '--pid <value>' argument missing (see loupe trace --help)"],
    [['--pid', '1', 'extra'], "unexpected argument 'extra' (see loupe trace --help)"],
  ];
  for (const [args, message] of bad) {
    it(`rejects ${JSON.stringify(args)}`, () => {
      assert.throws(() => parseTraceOptions(args), (err: Error) => err instanceof UsageError && err.message === message);
    });
  }

  it('knows when the machine cannot trace', () => {
    assert.match(traceBlocker({ uid: 1000, btfPath: '/sys/kernel/btf/vmlinux' }) ?? '', /^needs root .*run it with sudo$/);
    assert.match(traceBlocker({ uid: 0, btfPath: '/nonexistent/vmlinux' }) ?? '', /^needs a kernel with BTF \(\/nonexistent\/vmlinux is missing\)/);
    assert.equal(traceBlocker({ uid: 0, btfPath: process.execPath }), undefined);
  });
});

describe('loupe CLI errors', () => {
  const cases: { name: string; args: string[]; status: number; stderr: RegExp; options?: SpawnSyncOptions; node?: string }[] = [
    { name: 'unknown command', args: ['frobnicate'], status: 2, stderr: /^loupe: unknown command "frobnicate": choose from trace, report, agent, operator\n$/ },
    { name: 'unknown probe', args: ['trace', '--pid', '1', '--probes', 'exec,nope'], status: 2, stderr: new RegExp(`^loupe trace: unknown probe "nope": choose from ${PROBE_NAMES.join(', ')}\n$`) },
    { name: 'bad duration', args: ['trace', '--pid', '1', '--duration', '5x'], status: 2, stderr: /^loupe trace: --duration: invalid duration "5x": .*\n$/ },
    { name: 'missing target', args: ['trace', '--probes', 'exec'], status: 2, stderr: /^loupe trace: no target: .*\n$/ },
    { name: 'a pid that does not exist', args: ['trace', '--pid', '4194303'], status: 1, stderr: /^loupe trace: pid 4194303 does not exist \(no \/proc\/4194303\/cgroup\)\n$/ },
    { name: 'a cgroup that does not exist', args: ['trace', '--cgroup', '/loupe-no-such-cgroup'], status: 1, stderr: /^loupe trace: cgroup \/loupe-no-such-cgroup does not exist \(no directory .*\)\n$/ },
    { name: 'a container that is not here', args: ['trace', '--container', ID], status: 1, stderr: new RegExp(`^loupe trace: no container ${ID} under .*\n$`) },
  ];
  if (process.getuid?.() === 0) {
    cases.push({
      name: 'not root',
      args: ['trace', '--pid', '1'],
      status: 1,
      stderr: /^loupe trace: needs root to load eBPF programs \(CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN\): run it with sudo\n$/,
      options: { uid: 65534, gid: 65534, env: { ...process.env, HOME: '/tmp' } },
      node: nodeForAnyUser(),
    });
  }
  for (const c of cases) {
    it(`${c.name}: one line on stderr, nothing on stdout, status ${c.status}`, () => {
      const r = loupe(c.args, c.options, c.node);
      assert.match(r.stderr, c.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.status, c.status);
    });
  }

  it('prints help with status 0', () => {
    const r = loupe(['trace', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: loupe trace/);
    assert.match(r.stdout, new RegExp(`--probes LIST +comma-separated: ${PROBE_NAMES.join(', ')}`));
  });
});
