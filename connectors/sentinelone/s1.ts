// SentinelOne shapes sheriff relies on: options, agents, and the externalId marks that record ownership.
import { z } from 'zod';
import { ActionId } from '../../src/contracts/action.js';

const httpUrl = z.string().max(2048).url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');
const S1Id = z.string().regex(/^\d{1,24}$/);

export const SentinelOneOptions = z.object({
  /** The management console URL, e.g. https://usea1-partners.sentinelone.net */
  baseUrl: httpUrl,
  apiToken: z.string().min(1).max(2048),
  /** Restrict lookups (and so containment) to these sites / accounts. */
  siteIds: z.array(S1Id).max(100).optional(),
  accountIds: z.array(S1Id).max(100).optional(),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
}).strict();
export type SentinelOneOptions = z.infer<typeof SentinelOneOptions>;

export const AgentId = S1Id;

export const Agent = z.object({
  id: AgentId,
  computerName: z.string().nullish(),
  networkStatus: z.string().nullish(),
  externalId: z.string().nullish(),
  isDecommissioned: z.boolean().nullish(),
  networkInterfaces: z.array(z.object({ inet: z.array(z.string()).nullish(), inet6: z.array(z.string()).nullish() }).passthrough()).nullish(),
}).passthrough();
export type Agent = z.infer<typeof Agent>;

export const AgentsPage = z.object({
  data: z.array(Agent),
  pagination: z.object({ nextCursor: z.string().nullish(), totalItems: z.number().nullish() }).passthrough().nullish(),
}).passthrough();

export const Affected = z.object({ data: z.object({ affected: z.number().int() }).passthrough() }).passthrough();

/**
 * Ownership lives in the agent's externalId: `sheriff:<entry>,<entry>` where an entry is `a-<id>` (sheriff
 * disconnected the agent for that action) or `pre.a-<id>` (it was disconnected before that action came).
 */
const entryRe = /^(pre\.)?(a-[a-z0-9]{8,40})$/;

export interface Marks { owners: string[]; observers: string[] }

/** Parses the externalId; null when it holds someone else's value (sheriff never overwrites it). */
export function parseMarks(externalId: string | null | undefined): Marks | null {
  const marks: Marks = { owners: [], observers: [] };
  if (!externalId) return marks;
  if (!externalId.startsWith('sheriff:')) return null;
  const rest = externalId.slice('sheriff:'.length);
  for (const entry of rest ? rest.split(',') : []) {
    const m = entryRe.exec(entry);
    if (!m) return null;
    (m[1] ? marks.observers : marks.owners).push(m[2] as string);
  }
  return marks;
}

export function formatMarks(marks: Marks): string {
  const entries = [...new Set(marks.owners)].map((a) => ActionId.parse(a))
    .concat([...new Set(marks.observers)].map((a) => `pre.${ActionId.parse(a)}`));
  return entries.length ? `sheriff:${entries.join(',')}` : '';
}

export function isDisconnected(status: string | null | undefined): boolean {
  return status === 'disconnected' || status === 'disconnecting';
}
