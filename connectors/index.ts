// The registry of connector implementations, by `type`; the only way src/ reaches connectors.
import type { ConnectorModule } from '../src/contracts/connector.js';
import { logConnector } from './log/index.js';
import { routerosConnector } from './routeros/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const connectorModules: Record<string, ConnectorModule<any>> = {
  [logConnector.type]: logConnector,
  [routerosConnector.type]: routerosConnector,
};
