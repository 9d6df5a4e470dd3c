// The `iptables` connector module: describes itself and builds an IptablesConnector from validated options.
import { actionNames } from '../../src/contracts/action.js';
import type { ConnectorModule } from '../../src/contracts/connector.js';
import { IptablesConnector, IPTABLES_CONNECTOR } from './connector.js';
import { IptablesOptions } from './options.js';

export { IptablesConnector } from './connector.js';
export { IptablesOptions } from './options.js';
export type { Runner, RunResult } from './exec.js';

export const iptablesConnector: ConnectorModule<IptablesOptions> = {
  type: IPTABLES_CONNECTOR,
  description: 'Linux gateway or host: ipset sets with kernel timeouts, matched from one sheriff-owned iptables/ip6tables chain.',
  capabilities: actionNames,
  privileges: 'CAP_NET_ADMIN (root, or `setcap cap_net_admin+ep` on the node binary) and the iptables, ipset (and iproute2 for netns) packages.',
  optionsSchema: IptablesOptions as unknown as ConnectorModule<IptablesOptions>['optionsSchema'],
  create: (name, options, deps) => new IptablesConnector(name, IptablesOptions.parse(options), deps),
};
