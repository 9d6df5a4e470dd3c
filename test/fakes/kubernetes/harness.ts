// Test wiring: a fake API server, a kubeconfig file for it in a private temp dir, and a connector built on top.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubernetesConnector, KubernetesOptions } from '../../../connectors/kubernetes/index.js';
import type { Connector } from '../../../src/contracts/connector.js';
import { FakeKubeApi } from './server.js';

export const silent = { info() {}, warn() {}, error() {}, debug() {} };

export interface Harness { api: FakeKubeApi; connector: Connector; kubeconfig: string; cleanup: () => Promise<void> }

export async function harness(options: Record<string, unknown> = {}, name = 'cluster'): Promise<Harness> {
  const api = new FakeKubeApi();
  await api.start();
  const dir = await mkdtemp(join(tmpdir(), 'sheriff-k8s-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await api.writeKubeconfig(kubeconfig);
  const opts = KubernetesOptions.parse({ kubeconfig, timeoutMs: 3000, ...options });
  const connector = kubernetesConnector.create(name, opts, { log: silent });
  return {
    api, connector, kubeconfig,
    cleanup: async () => {
      await connector.close();
      await api.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
