// The configuration files of a test node: containerd's, the CNI network's and
// the kubelet's, with the settings this machine kind needs (measured, see
// shared/real-node.md): no process has CAP_SYS_RESOURCE, cgroups are hybrid
// (v1 controllers plus cgroup2) with no systemd, and no registry is reachable.
// Everything lives under the node's own directory and listens on loopback only.
import { join } from 'node:path';
import { CNI_BRIDGE, CNI_NETWORK } from './node-leftovers.js';
import { PAUSE_IMAGE } from './node-images.js';
import { POD_CIDR, POD_GATEWAY, SERVICE_CIDR } from './node-service-proxy.js';

export interface NodePaths {
  /** The node's own directory (tmpdir()/loupe-real-node-*). */
  dir: string;
  containerdConfig: string;
  containerdSocket: string;
  cniConfDir: string;
  kubeletConfig: string;
  kubeletRootDir: string;
  podLogsDir: string;
}

export function nodePaths(dir: string): NodePaths {
  return {
    dir,
    containerdConfig: join(dir, 'containerd.toml'),
    containerdSocket: join(dir, 'containerd.sock'),
    cniConfDir: join(dir, 'cni'),
    kubeletConfig: join(dir, 'kubelet.yaml'),
    kubeletRootDir: join(dir, 'kubelet'),
    podLogsDir: join(dir, 'pod-logs'),
  };
}

/** containerd 1.6 (config version 2). */
export function containerdConfig(paths: NodePaths): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${join(paths.dir, 'containerd', 'root')}"
state = "${join(paths.dir, 'containerd', 'state')}"
# Not needed by the CRI, and "opt" would write /opt/containerd.
disabled_plugins = [
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "${paths.containerdSocket}"

[${cri}]
  sandbox_image = "${PAUSE_IMAGE}"
  # No process here has CAP_SYS_RESOURCE: without this every sandbox fails with
  # "runc create failed: ... can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  # The kubelet uses the cgroupfs driver: there is no systemd.
  SystemdCgroup = false
  # runc's state under the node's directory, not /run/containerd/runc.
  Root = "${join(paths.dir, 'runc')}"

[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${paths.cniConfDir}"
`;
}

/**
 * A bridge with host-local addresses (containerd adds the loopback plugin for
 * `lo` itself). The bridge's address is the pods' gateway to the Service range
 * only (node-service-proxy.ts), not a default route, and nothing is
 * masqueraded: pods reach the API server and nothing else off their bridge.
 */
export function cniConfig(paths: NodePaths): object {
  return {
    cniVersion: '1.0.0',
    name: CNI_NETWORK,
    plugins: [{
      type: 'bridge',
      bridge: CNI_BRIDGE,
      isGateway: true,
      isDefaultGateway: false,
      ipMasq: false,
      ipam: {
        type: 'host-local',
        ranges: [[{ subnet: POD_CIDR, gateway: POD_GATEWAY }]],
        routes: [{ dst: SERVICE_CIDR }],
        dataDir: join(paths.dir, 'cni-ipam'),
      },
    }],
  };
}

export interface KubeletPorts { port: number; healthzPort: number }

/** KubeletConfiguration (kubelet.config.k8s.io/v1beta1). */
export function kubeletConfig(paths: NodePaths, ports: KubeletPorts): object {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: `unix://${paths.containerdSocket}`,
    // Hybrid cgroups count as v1, which 1.37 still supports when told to.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    failSwapOn: false,
    // containerd 1.6 does not protect local images from GC, and these cannot be pulled again.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    address: '127.0.0.1',
    port: ports.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: ports.healthzPort,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    podLogsDir: paths.podLogsDir,
    volumePluginDir: join(paths.dir, 'volume-plugins'),
    // No KUBE-FIREWALL, KUBE-KUBELET-CANARY or KUBE-IPTABLES-HINT chains in the host's
    // iptables: they serve kube-proxy, which does not run here.
    makeIPTablesUtilChains: false,
    // Changes machine-wide sysctls only where it must; they are restored anyway.
    protectKernelDefaults: false,
    resolvConf: '/etc/resolv.conf',
    nodeStatusUpdateFrequency: '5s',
    nodeStatusReportFrequency: '10s',
    syncFrequency: '10s',
    fileCheckFrequency: '10s',
  };
}
