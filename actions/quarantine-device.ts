// quarantine-device: all traffic of the device is cut except to allow-listed management addresses.
import { QuarantineDeviceParams } from '../src/contracts/action.js';
import type { ActionModule } from '../src/contracts/action-module.js';
import { checkedSteps, parseParams } from './parse.js';

export const quarantineDevice: ActionModule<typeof QuarantineDeviceParams> = {
  name: 'quarantine-device',
  description: 'All traffic of the device is cut, in and out, except to the allow-listed management CIDRs.',
  params: QuarantineDeviceParams,
  capability: 'quarantine-device',
  defaultTtlMs: 24 * 3_600_000,
  example: { action: 'quarantine-device', ttl: '24h', approval: 'required', params: { allow: ['10.0.0.10/32'] }, when: { repeat: 3, within: '24h' } },
  resolveParams(params) {
    const p = parseParams('quarantine-device', QuarantineDeviceParams, params);
    return { allow: [...new Set(p.allow)].sort() };
  },
  plan(target, params, ctx) {
    return checkedSteps([{ action: 'quarantine-device', actionId: ctx.actionId, device: target, expiresAt: ctx.expiresAt, params }]);
  },
};
