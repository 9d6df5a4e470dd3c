// The registry of connector implementations, by `type`; the only way src/ reaches connectors.
import type { ConnectorModule } from '../src/contracts/connector.js';
import { defenderConnector } from './defender/index.js';
import { logConnector } from './log/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const connectorModules: Record<string, ConnectorModule<any>> = {
  [logConnector.type]: logConnector,
  [defenderConnector.type]: defenderConnector,
};
