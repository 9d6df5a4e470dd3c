// block-endpoint: the device (or every device) can no longer reach one external IP[/port]; defaults to the alert's peer.
import { BlockEndpointParams } from '../src/contracts/action.js';
import type { ActionModule } from '../src/contracts/action-module.js';
import { parseCidr } from '../src/contracts/net.js';
import { SheriffError } from '../src/errors.js';
import { checkedSteps, parseParams } from './parse.js';

export const blockEndpoint: ActionModule<typeof BlockEndpointParams> = {
  name: 'block-endpoint',
  description: 'The device (scope: device) or every device (scope: all) can no longer reach one external IP or network, optionally one port. Without ip, the alert\'s peer (ip and port) is blocked.',
  params: BlockEndpointParams,
  capability: 'block-endpoint',
  defaultTtlMs: 6 * 3_600_000,
  example: { action: 'block-endpoint', ttl: '6h', approval: 'required', autoMinScore: 0.8, params: { scope: 'device' } },
  resolveParams(params, alert) {
    const p = parseParams('block-endpoint', BlockEndpointParams, params);
    if (p.ip !== undefined) return p;
    const peerIp = alert?.peer?.ip;
    if (peerIp === undefined) {
      throw new SheriffError('VALIDATION', 'block-endpoint: no ip in the params and the alert names no peer; set params.ip or match on hasPeer: true');
    }
    const parsed = parseCidr(peerIp);
    if ('error' in parsed) throw new SheriffError('VALIDATION', `block-endpoint: the alert's peer is unusable: ${parsed.error}`);
    // The peer's port only makes sense together with the peer's address; an explicit port always wins.
    const port = p.port ?? alert?.peer?.port;
    return { ...p, ip: parsed.cidr, ...(port !== undefined && port > 0 ? { port } : {}) };
  },
  plan(target, params, ctx) {
    if (params.ip === undefined) throw new SheriffError('VALIDATION', 'block-endpoint: plan needs resolved params (ip missing)');
    return checkedSteps([{ action: 'block-endpoint', actionId: ctx.actionId, device: target, expiresAt: ctx.expiresAt, params }]);
  },
};
