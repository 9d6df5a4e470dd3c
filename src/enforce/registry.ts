// The configured connector instances, with their scopes compiled once, and who is responsible for a device.
import { compileRanges, inRanges } from '../contracts/net.js';
import type { ActionName } from '../contracts/action.js';
import type { Connector, ConnectorDeps } from '../contracts/connector.js';
import { connectorModules } from '../../connectors/index.js';
import { type Config, connectorOptions } from '../config.js';
import { CircuitBreaker, withBreaker, type BreakerEvents, type BreakerOptions } from './breaker.js';
import { withScrubbedErrors } from './scrub-connector.js';
import { collectSecrets, registerSecrets } from '../secrets.js';

export interface ConfiguredConnector {
  name: string;
  type: string;
  connector: Connector;
  capabilities: readonly ActionName[];
  scope: string[] | null;
  inScope: (ip: string) => boolean;
  /** Present when the registry was built with breaker options; `connector` then goes through it. */
  breaker?: CircuitBreaker;
}

export class ConnectorRegistry {
  readonly all: ConfiguredConnector[];

  constructor(config: Pick<Config, 'connectors'>, deps: ConnectorDeps, breakers?: { options: BreakerOptions; events?: BreakerEvents }) {
    this.all = Object.entries(config.connectors).map(([name, entry]) => {
      const mod = connectorModules[entry.type];
      if (!mod) throw new Error(`unknown connector type ${entry.type}`);
      const options = connectorOptions(entry);
      const secrets = collectSecrets(options);
      registerSecrets(secrets);
      const raw = withScrubbedErrors(mod.create(name, options, { ...deps, log: deps.log }), secrets);
      const breaker = breakers ? new CircuitBreaker(name, breakers.options, breakers.events) : undefined;
      const connector = breaker ? withBreaker(raw, breaker) : raw;
      const scope = entry.scope ?? null;
      const ranges = scope ? compileRanges(scope) : null;
      return {
        name,
        type: entry.type,
        connector,
        ...(breaker ? { breaker } : {}),
        capabilities: connector.capabilities,
        scope,
        inScope: ranges ? (ip: string) => inRanges(ip, ranges) : () => true,
      };
    });
  }

  get(name: string): ConfiguredConnector | undefined {
    return this.all.find((c) => c.name === name);
  }

  /** Connectors whose scope holds the device and that can enforce the action. */
  responsible(ip: string, action: ActionName): ConfiguredConnector[] {
    return this.all.filter((c) => c.capabilities.includes(action) && c.inScope(ip));
  }

  /** What playbook validation and guards need to know about connectors. */
  describe(): Array<{ name: string; type: string; scope?: string[]; capabilities: readonly ActionName[] }> {
    return this.all.map((c) => ({ name: c.name, type: c.type, ...(c.scope ? { scope: c.scope } : {}), capabilities: c.capabilities }));
  }

  async startAll(onError: (name: string, err: unknown) => void): Promise<void> {
    await Promise.all(this.all.map(async (c) => {
      try {
        await c.connector.start();
      } catch (err) {
        onError(c.name, err);
      }
    }));
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled(this.all.map((c) => c.connector.close()));
  }
}
