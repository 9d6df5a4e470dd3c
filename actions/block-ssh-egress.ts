// block-ssh-egress: the device can open no new TCP connection to external hosts on SSH ports.
import { BlockSshEgressParams } from '../src/contracts/action.js';
import type { ActionModule } from '../src/contracts/action-module.js';
import { checkedSteps, parseParams } from './parse.js';

export const blockSshEgress: ActionModule<typeof BlockSshEgressParams> = {
  name: 'block-ssh-egress',
  description: 'The device can open no new TCP connection to external hosts on SSH ports (Outlaw spreads over 22, 2222, 2022).',
  params: BlockSshEgressParams,
  capability: 'block-ssh-egress',
  defaultTtlMs: 2 * 3_600_000,
  example: { action: 'block-ssh-egress', ttl: '2h', approval: 'auto', params: { ports: [22, 2222, 2022] } },
  resolveParams(params) {
    const p = parseParams('block-ssh-egress', BlockSshEgressParams, params);
    // Order and repeats carry no meaning; a stable form keeps dedupe keys and connector words stable.
    return { ports: [...new Set(p.ports)].sort((a, b) => a - b) };
  },
  plan(target, params, ctx) {
    return checkedSteps([{ action: 'block-ssh-egress', actionId: ctx.actionId, device: target, expiresAt: ctx.expiresAt, params }]);
  },
};
