// The registry of connector implementations, by `type`; the only way src/ reaches connectors.
import type { ConnectorModule } from '../src/contracts/connector.js';
import { iptablesConnector } from './iptables/index.js';
import { defenderConnector } from './defender/index.js';
import { logConnector } from './log/index.js';
import { kubernetesConnector } from './kubernetes/index.js';
import { crowdstrikeConnector } from './crowdstrike/index.js';
import { sentineloneConnector } from './sentinelone/index.js';
import { routerosConnector } from './routeros/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const connectorModules: Record<string, ConnectorModule<any>> = {
  [logConnector.type]: logConnector,
  [iptablesConnector.type]: iptablesConnector,
  [kubernetesConnector.type]: kubernetesConnector,
  [crowdstrikeConnector.type]: crowdstrikeConnector,
  [sentineloneConnector.type]: sentineloneConnector,
  [defenderConnector.type]: defenderConnector,
  [routerosConnector.type]: routerosConnector,
};
