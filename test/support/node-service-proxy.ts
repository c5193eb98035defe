// The one thing kube-proxy does that pods of a test node need: in-cluster
// clients (the operator and agent pods) reach the API server at the
// `kubernetes` Service's ClusterIP, which the kubelet puts in every pod's
// KUBERNETES_SERVICE_HOST. The test API server listens on 127.0.0.1 only and a
// real kube-proxy cannot help (EndpointSlices refuse loopback addresses), so one
// DNAT rule, on the pod bridge only, sends ClusterIP:443 to the loopback port,
// and route_localnet on that bridge only lets the kernel route it there and
// back. The pods' route table holds the Service range alone (node-config.ts's
// CNI routes), and the host forwards nothing from the bridge, so no pod packet
// can leave the machine: what pods send ends at 127.0.0.1.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The API server's --service-cluster-ip-range and the `kubernetes` Service's ClusterIP in it. */
export const SERVICE_CIDR = '10.0.0.0/24';
export const KUBERNETES_SERVICE_IP = '10.0.0.1';
/** The pods' network, and the bridge's own address in it (the pods' gateway to the Service range). */
export const POD_CIDR = '10.213.0.0/24';
export const POD_GATEWAY = '10.213.0.1';

const NAT_CHAIN = 'LOUPE-TEST-SERVICES';
const FORWARD_CHAIN = 'LOUPE-TEST-FORWARD';

const iptables = (args: string[]) => run('iptables', ['-w', ...args]);

/**
 * Makes the bridge (the CNI bridge plugin adopts an existing one), gives it the
 * gateway address, and routes the `kubernetes` Service to 127.0.0.1:apiServerPort.
 */
export async function routeKubernetesServiceToLoopback(bridge: string, apiServerPort: number): Promise<void> {
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${POD_GATEWAY}/24`, 'dev', bridge]);
  await run('ip', ['link', 'set', bridge, 'up']);
  await writeFile(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, '1');
  await iptables(['-t', 'nat', '-N', NAT_CHAIN]);
  await iptables(['-t', 'nat', '-A', NAT_CHAIN, '-d', `${KUBERNETES_SERVICE_IP}/32`, '-p', 'tcp', '--dport', '443',
    '-j', 'DNAT', '--to-destination', `127.0.0.1:${apiServerPort}`]);
  await iptables(['-t', 'nat', '-I', 'PREROUTING', '-i', bridge, '-j', NAT_CHAIN]);
  await iptables(['-t', 'filter', '-N', FORWARD_CHAIN]);
  await iptables(['-t', 'filter', '-A', FORWARD_CHAIN, '-j', 'DROP']);
  await iptables(['-t', 'filter', '-I', 'FORWARD', '-i', bridge, '-j', FORWARD_CHAIN]);
}

/** The chains and jumps above that are still in the host's iptables, one line each. */
export async function serviceRouteLeftovers(): Promise<string[]> {
  const left: string[] = [];
  for (const [table, chain] of [['nat', NAT_CHAIN], ['filter', FORWARD_CHAIN]] as const) {
    const { stdout } = await iptables(['-t', table, '-S']).catch(() => ({ stdout: '' }));
    for (const line of stdout.split('\n')) if (line.includes(chain)) left.push(`iptables -t ${table} ${line}`);
  }
  return left;
}

/** Removes the jumps and chains (the bridge, and its sysctl with it, goes with the node's links). */
export async function removeServiceRoute(): Promise<void> {
  for (const [table, hook, chain] of [['nat', 'PREROUTING', NAT_CHAIN], ['filter', 'FORWARD', FORWARD_CHAIN]] as const) {
    const { stdout } = await iptables(['-t', table, '-S', hook]).catch(() => ({ stdout: '' }));
    for (const rule of stdout.split('\n').filter((line) => line.startsWith('-A ') && line.endsWith(`-j ${chain}`))) {
      await iptables(['-t', table, '-D', ...rule.slice(3).split(' ')]);
    }
    if ((await iptables(['-t', table, '-S', chain]).catch(() => undefined)) !== undefined) {
      await iptables(['-t', table, '-F', chain]);
      await iptables(['-t', table, '-X', chain]);
    }
  }
}
