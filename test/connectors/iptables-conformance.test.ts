// The iptables connector passes the shared conformance suite, running for real in a lab gateway namespace.
import { describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { iptablesConnector } from '../../connectors/iptables/index.js';
import { connectorConformance } from '../conformance/connector.js';
import { createLab, labUnavailableReason } from '../helpers/netns.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };
const unavailable = labUnavailableReason();

if (unavailable) {
  describe('connector conformance: iptables', () => {
    it(`skipped: ${unavailable}`, { skip: unavailable }, () => {});
  });
} else {
  connectorConformance('iptables (lab gateway netns)', async () => {
    const lab = await createLab({ ipv6: true });
    const connector = iptablesConnector.create('edge', iptablesConnector.optionsSchema.parse({
      netns: lab.ns.gw, prefix: `c${randomBytes(3).toString('hex')}`,
    }), { log: silent });
    return {
      connector,
      devices: [lab.dev.dev1],
      // The enforcement point vanishes: the connector must answer with a typed (retryable) error.
      breakBackend: async () => { execFileSync('ip', ['netns', 'del', lab.ns.gw]); },
      cleanup: () => lab.destroy(),
    };
  });
}
