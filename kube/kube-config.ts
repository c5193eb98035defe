// Which cluster to talk to, as kubectl decides it: the file given, else
// $KUBECONFIG, ~/.kube/config, then the in-cluster service account.
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(file?: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (file === undefined) kubeConfig.loadFromDefault();
  else kubeConfig.loadFromFile(file);
  return kubeConfig;
}
