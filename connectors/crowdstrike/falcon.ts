// Falcon shapes sheriff relies on: options, device entities, and the grouping tags that record ownership.
import { z } from 'zod';
import { ActionId } from '../../src/contracts/action.js';

export const regions = {
  'us-1': 'https://api.crowdstrike.com',
  'us-2': 'https://api.us-2.crowdstrike.com',
  'eu-1': 'https://api.eu-1.crowdstrike.com',
  'us-gov-1': 'https://api.laggar.gcw.crowdstrike.com',
} as const;

const httpUrl = z.string().max(2048).url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');

export const CrowdStrikeOptions = z.object({
  /** Full API base URL; overrides `region`. */
  baseUrl: httpUrl.optional(),
  region: z.enum(Object.keys(regions) as [keyof typeof regions, ...(keyof typeof regions)[]]).optional(),
  clientId: z.string().min(1).max(256),
  clientSecret: z.string().min(1).max(256),
  /** Child CID for Flight Control (MSSP) tenants. */
  memberCid: z.string().regex(/^[0-9a-fA-F]{32}(-[0-9a-fA-F]{2})?$/).optional(),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
}).strict().refine((o) => !(o.baseUrl && o.region), { message: 'give either baseUrl or region, not both' });
export type CrowdStrikeOptions = z.infer<typeof CrowdStrikeOptions>;

export function baseUrlOf(o: CrowdStrikeOptions): string {
  return o.baseUrl ?? regions[o.region ?? 'us-1'];
}

export const DeviceId = z.string().regex(/^[0-9a-f]{32}$/);
export const deviceStatuses = ['normal', 'containment_pending', 'contained', 'lift_containment_pending'] as const;

export const Device = z.object({
  device_id: DeviceId,
  hostname: z.string().nullish(),
  local_ip: z.string().nullish(),
  status: z.string(),
  tags: z.array(z.string()).nullish(),
}).passthrough();
export type Device = z.infer<typeof Device>;

const meta = z.object({
  pagination: z.object({ offset: z.union([z.number(), z.string()]).optional(), total: z.number().optional() }).partial().optional(),
}).passthrough().optional();

export const IdsResponse = z.object({ meta, resources: z.array(z.string()).nullish() }).passthrough();
export const DevicesResponse = z.object({ meta, resources: z.array(Device).nullish() }).passthrough();
export const AnyResponse = z.unknown();

/**
 * Ownership lives in Falcon grouping tags (letters, digits, `_` only). `sheriff_a_<id>`: sheriff contained the
 * host for action a-<id>; `sheriffpre_a_<id>`: the host was already contained when action a-<id> came, so its
 * revert must leave it contained.
 */
const TAG_PREFIX = 'FalconGroupingTags/';
const ownerRe = /^FalconGroupingTags\/sheriff_a_([a-z0-9]{8,40})$/;
const preRe = /^FalconGroupingTags\/sheriffpre_a_([a-z0-9]{8,40})$/;

export function ownerTag(actionId: string): string {
  return `${TAG_PREFIX}sheriff_${ActionId.parse(actionId).replace('-', '_')}`;
}
export function preTag(actionId: string): string {
  return `${TAG_PREFIX}sheriffpre_${ActionId.parse(actionId).replace('-', '_')}`;
}

export function sheriffTags(device: Device): { owners: string[]; observers: string[] } {
  const owners: string[] = [];
  const observers: string[] = [];
  for (const tag of device.tags ?? []) {
    const o = ownerRe.exec(tag);
    if (o) owners.push(`a-${o[1]}`);
    const p = preRe.exec(tag);
    if (p) observers.push(`a-${p[1]}`);
  }
  return { owners, observers };
}

export function isContained(status: string): boolean {
  return status === 'contained' || status === 'containment_pending';
}
