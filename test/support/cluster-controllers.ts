// kube-controller-manager and kube-scheduler for a test cluster with a real
// node: without them a Deployment or DaemonSet is admitted and never runs. Only
// the controllers a workload on one node needs run; both talk to the API server
// as its admin, serve nothing (--secure-port=0) and do not elect a leader.
import { join } from 'node:path';
import { controlPlaneBinary } from '../../hack/local-cluster/control-plane-binaries.js';
import type { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { startServerProcess, type ServerProcess } from '../../hack/local-cluster/server-process.js';

export const CONTROLLERS = [
  'daemonset-controller',
  'replicaset-controller',
  'deployment-controller',
  'serviceaccount-controller',
  // Signs the legacy token Secrets; needs the service-account signing key.
  'serviceaccount-token-controller',
  // kube-root-ca.crt in every namespace: the projected token volume of every pod reads it.
  'root-ca-certificate-publisher-controller',
  // Removes the node.kubernetes.io/not-ready taint once the kubelet reports Ready.
  'node-lifecycle-controller',
  'garbage-collector-controller',
  'namespace-controller',
] as const;

/** Starts both; their logs go to dir (which the caller removes). */
export function startClusterControllers(controlPlane: ControlPlane, dir: string): ServerProcess[] {
  const controllerManager = startServerProcess('kube-controller-manager', controlPlaneBinary('kube-controller-manager'), [
    `--kubeconfig=${controlPlane.kubeconfigPath}`,
    `--controllers=${CONTROLLERS.join(',')}`,
    `--service-account-private-key-file=${controlPlane.serviceAccountSigningKeyFile}`,
    `--root-ca-file=${controlPlane.caFile}`,
    '--use-service-account-credentials=false',
    '--leader-elect=false',
    '--secure-port=0',
  ], join(dir, 'kube-controller-manager.log'));
  const scheduler = startServerProcess('kube-scheduler', controlPlaneBinary('kube-scheduler'), [
    `--kubeconfig=${controlPlane.kubeconfigPath}`,
    '--leader-elect=false',
    '--secure-port=0',
  ], join(dir, 'kube-scheduler.log'));
  return [controllerManager, scheduler];
}
