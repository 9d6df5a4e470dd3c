// rate-limit-new-ports: the device's new external connections are limited per minute (with a burst).
import { RateLimitNewPortsParams } from '../src/contracts/action.js';
import type { ActionModule } from '../src/contracts/action-module.js';
import { checkedSteps, parseParams } from './parse.js';

export const rateLimitNewPorts: ActionModule<typeof RateLimitNewPortsParams> = {
  name: 'rate-limit-new-ports',
  description: 'The device\'s new external connections (connection state NEW) are limited to perMinute with a burst; established traffic is untouched.',
  params: RateLimitNewPortsParams,
  capability: 'rate-limit-new-ports',
  defaultTtlMs: 3_600_000,
  example: { action: 'rate-limit-new-ports', ttl: '1h', approval: 'auto', params: { perMinute: 10, burst: 5 } },
  resolveParams(params) {
    return parseParams('rate-limit-new-ports', RateLimitNewPortsParams, params);
  },
  plan(target, params, ctx) {
    return checkedSteps([{ action: 'rate-limit-new-ports', actionId: ctx.actionId, device: target, expiresAt: ctx.expiresAt, params }]);
  },
};
