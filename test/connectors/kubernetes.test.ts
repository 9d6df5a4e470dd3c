// The kubernetes connector passes the shared conformance suite against the fake API server, once per flavor.
import { connectorConformance } from '../conformance/connector.js';
import { harness } from '../fakes/kubernetes/harness.js';

for (const flavor of ['networkpolicy', 'cilium', 'calico'] as const) {
  connectorConformance(`kubernetes (${flavor})`, async () => {
    const h = await harness({ flavor, allowNamespaces: ['monitoring'] });
    h.api.addPod({ namespace: 'shop', name: 'web-7d9f-abcde', ip: '10.244.1.17', labels: { app: 'web' } });
    return {
      connector: h.connector,
      devices: ['10.244.1.17'],
      breakBackend: async () => { await h.api.stop(); },
      cleanup: h.cleanup,
    };
  });
}
