// The actions catalogue: every action module by name.
import type { ActionName } from '../src/contracts/action.js';
import type { ActionModule } from '../src/contracts/action-module.js';
import { blockEndpoint } from './block-endpoint.js';
import { blockSshEgress } from './block-ssh-egress.js';
import { quarantineDevice } from './quarantine-device.js';
import { rateLimitNewPorts } from './rate-limit-new-ports.js';

export const actionModules: { readonly [A in ActionName]: ActionModule } = {
  'block-ssh-egress': blockSshEgress,
  'block-endpoint': blockEndpoint,
  'rate-limit-new-ports': rateLimitNewPorts,
  'quarantine-device': quarantineDevice,
};

export { blockEndpoint, blockSshEgress, quarantineDevice, rateLimitNewPorts };
