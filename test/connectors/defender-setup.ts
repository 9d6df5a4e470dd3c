// Shared setup for the defender connector tests: a fresh fake and a connector pointed at it.
import { defenderConnector, DefenderOptions } from '../../connectors/defender/index.js';
import type { Connector } from '../../src/contracts/connector.js';
import { FAKE_CLIENT_ID, FAKE_SECRET, FAKE_TENANT, FakeDefender } from '../fakes/defender/server.js';

export const silent = { info() {}, warn() {}, error() {}, debug() {} };

export async function fakeAndConnector(extra: Record<string, unknown> = {}): Promise<{ fake: FakeDefender; connector: Connector }> {
  const fake = await new FakeDefender().start();
  const options = DefenderOptions.parse({
    tenantId: FAKE_TENANT, clientId: FAKE_CLIENT_ID, clientSecret: FAKE_SECRET,
    baseUrl: fake.url, loginUrl: fake.url, timeoutMs: 2000, ...extra,
  });
  return { fake, connector: defenderConnector.create('mde', options, { log: silent }) };
}
