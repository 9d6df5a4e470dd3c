// Shared setup for the routeros tests: a fake router on 127.0.0.1 and a connector pointed at it.
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { routerosConnector, RouterOsOptions } from '../../connectors/routeros/index.js';
import type { Connector } from '../../src/contracts/connector.js';
import { FakeRouterOsServer } from '../fakes/routeros/server.js';

export const silent = { info() {}, warn() {}, error() {}, debug() {} };

export async function startFake(opts: ConstructorParameters<typeof FakeRouterOsServer>[0] = {}): Promise<FakeRouterOsServer> {
  const fake = new FakeRouterOsServer(opts);
  await fake.listen(0, '127.0.0.1');
  return fake;
}

export function connectTo(fake: FakeRouterOsServer, over: Partial<z.input<typeof RouterOsOptions>> = {}): Connector {
  const options = routerosConnector.optionsSchema.parse({ host: '127.0.0.1', port: fake.port, user: 'sheriff', password: 'sheriff', timeout: '3s', ...over });
  return routerosConnector.create(`mikrotik-${randomBytes(3).toString('hex')}`, options, { log: silent });
}

/** Rows of the fake's filter table that sheriff owns, in order. */
export function sheriffRules(fake: FakeRouterOsServer): { id: string; props: Record<string, string> }[] {
  return fake.router.filter.filter((r) => r.props.comment?.startsWith('sheriff:rule:'));
}
