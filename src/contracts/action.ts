// Action names, parameters, enforcement steps, receipts and the action record kept in the ledger.
import { z } from 'zod';
import { cidr, hostIp, port } from './net.js';

export const actionNames = ['block-ssh-egress', 'block-endpoint', 'rate-limit-new-ports', 'quarantine-device'] as const;
export const ActionName = z.enum(actionNames);
export type ActionName = z.infer<typeof ActionName>;

/** Action ids become connector words (ipset comments, RouterOS comments, Kubernetes labels): keep them tame. */
export const ActionId = z.string().regex(/^a-[a-z0-9]{8,40}$/);

export const BlockSshEgressParams = z.object({
  ports: z.array(port).min(1).max(16).default([22, 2222, 2022]),
}).strict();

export const BlockEndpointParams = z.object({
  /** Host or network; defaults to the alert's peer when the playbook leaves it out. */
  ip: cidr.optional(),
  port: port.optional(),
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  scope: z.enum(['device', 'all']).default('device'),
}).strict();

export const RateLimitNewPortsParams = z.object({
  perMinute: z.number().int().min(1).max(10_000).default(10),
  burst: z.number().int().min(1).max(10_000).default(5),
}).strict();

export const QuarantineDeviceParams = z.object({
  allow: z.array(cidr).max(64).default([]),
}).strict();

export const paramsSchemas = {
  'block-ssh-egress': BlockSshEgressParams,
  'block-endpoint': BlockEndpointParams,
  'rate-limit-new-ports': RateLimitNewPortsParams,
  'quarantine-device': QuarantineDeviceParams,
} as const;

export type ParamsOf<A extends ActionName> = z.output<(typeof paramsSchemas)[A]>;

export const Target = z.object({
  ip: hostIp,
  hostname: z.string().max(253).optional(),
});
export type Target = z.infer<typeof Target>;

const stepBase = {
  actionId: ActionId,
  device: Target,
  /** Epoch ms when the containment must lift by itself; null = no kernel/router-side timeout. */
  expiresAt: z.number().int().nullable(),
};

/** Connector-neutral description of what must be enforced; `ip` of block-endpoint is always resolved here. */
export const EnforcementStep = z.discriminatedUnion('action', [
  z.object({ ...stepBase, action: z.literal('block-ssh-egress'), params: BlockSshEgressParams }),
  z.object({ ...stepBase, action: z.literal('block-endpoint'), params: BlockEndpointParams.extend({ ip: cidr }) }),
  z.object({ ...stepBase, action: z.literal('rate-limit-new-ports'), params: RateLimitNewPortsParams }),
  z.object({ ...stepBase, action: z.literal('quarantine-device'), params: QuarantineDeviceParams }),
]);
export type EnforcementStep = z.infer<typeof EnforcementStep>;

/** What a connector did for one step; stored in the ledger and handed back for revert/verify. */
export const Receipt = z.object({
  connector: z.string(),
  actionId: z.string(),
  action: ActionName,
  /** Identity of the enforced thing at the enforcement point (set entry, list entry, object name). */
  key: z.string(),
  /** `partial`: applied but known to leak (e.g. an additive NetworkPolicy); `pending`: the vendor is still working. */
  status: z.enum(['enforced', 'partial', 'pending']),
  detail: z.string(),
  expiresAt: z.number().int().nullable(),
  data: z.record(z.string(), z.unknown()).default({}),
});
export type Receipt = z.infer<typeof Receipt>;

export const actionStates = [
  'pending_approval', 'approved', 'enforcing', 'active', 'reverting',
  'expired', 'reverted', 'denied', 'failed', 'simulated',
] as const;
export const ActionState = z.enum(actionStates);
export type ActionState = z.infer<typeof ActionState>;

export const ConnectorStatus = z.object({
  name: z.string(),
  type: z.string(),
  status: z.enum(['pending', 'enforced', 'partial', 'failed', 'not_responsible', 'reverted', 'simulated']),
  detail: z.string(),
  receipt: Receipt.optional(),
});
export type ConnectorStatus = z.infer<typeof ConnectorStatus>;

export const HistoryEntry = z.object({ at: z.string(), state: ActionState, by: z.string(), note: z.string() });
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export const ActionRecord = z.object({
  id: ActionId,
  action: ActionName,
  params: z.record(z.string(), z.unknown()),
  target: Target,
  state: ActionState,
  mode: z.enum(['auto', 'approval']),
  playbook: z.string().nullable(),
  alertIds: z.array(z.string()),
  reason: z.string(),
  ttlMs: z.number().int().positive(),
  createdAt: z.string(),
  enforcedAt: z.string().optional(),
  expiresAt: z.string().optional(),
  connectors: z.array(ConnectorStatus),
  history: z.array(HistoryEntry),
});
export type ActionRecord = z.infer<typeof ActionRecord>;

/** A device hostname that may be written into a vendor query literal (EDR searches): letters, digits, dots, hyphens. */
export const QueryHostname = z.string().regex(/^[A-Za-z0-9.-]{1,253}$/);

/**
 * A connector's own check of a step before any I/O (a step may come from anywhere). `strict`, for connectors that
 * embed the device in vendor queries: the IP must already be plain (the schema would trim it) and the hostname a
 * QueryHostname, and the problem names fields, never their values. The connector raises the problem as its own error.
 */
export function checkStep(input: unknown, o: { strict?: boolean } = {}): { step: EnforcementStep } | { problem: string } {
  if (o.strict) {
    const rawIp: unknown = (input as { device?: { ip?: unknown } } | undefined)?.device?.ip;
    if (typeof rawIp !== 'string' || !/^[0-9A-Fa-f:.]{1,64}$/.test(rawIp)) return { problem: 'device ip is not a plain IP address' };
  }
  const parsed = EnforcementStep.safeParse(input);
  if (!parsed.success) {
    // Issue messages may quote the value (a hostile string): strict callers get the field names only.
    const where = parsed.error.issues.slice(0, 5).map((i) => (o.strict ? i.path.join('.') : `${i.path.join('.')}: ${i.message.slice(0, 80)}`));
    return { problem: `invalid enforcement step (${where.join(o.strict ? ', ' : '; ')})` };
  }
  const host = parsed.data.device.hostname;
  if (o.strict && host !== undefined && !QueryHostname.safeParse(host).success) return { problem: 'device hostname is not a plain DNS name' };
  return { step: parsed.data };
}
