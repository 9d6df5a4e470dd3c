// Types of the decision half: the action request evaluate() produces, connector descriptions, and the state interface.
import { z } from 'zod';
import { ActionName, Target } from '../contracts/action.js';
import type { Config } from '../config.js';
import { connectorModules } from '../../connectors/index.js';

/** What the decide step asks for; the lead's ledger turns it into an ActionRecord after the guards. */
export const ActionRequest = z.object({
  /** null for manual actions (POST /v1/actions). */
  playbook: z.string().nullable(),
  action: ActionName,
  /** Resolved and validated params (block-endpoint always has its ip here). */
  params: z.record(z.string(), z.unknown()),
  target: Target,
  ttlMs: z.number().int().positive(),
  approval: z.enum(['auto', 'required']),
  /** A sentence: which playbook, which conditions, which counts. */
  reason: z.string(),
  alertIds: z.array(z.string()),
  /** True for a step that fired because of `when` (repeat offences, live containment, score). */
  escalation: z.boolean().default(false),
  /** Set by the decider (alert id + receipt time): the same request made again yields the same action id. */
  idempotencyKey: z.string().optional(),
});
export type ActionRequest = z.infer<typeof ActionRequest>;

/** What the decision half needs to know of a configured connector. */
export interface ConnectorInfo {
  name: string;
  type: string;
  /** Devices it is responsible for; absent = every device. */
  scope?: readonly string[];
  capabilities: readonly ActionName[];
}

/** Counters and containment lookups behind an interface: memory for replay/tests, Redis in production. */
export interface DecideState {
  /**
   * Records event `eventId` under `key` at `now` and returns how many distinct events the key holds within
   * (now - windowMs, now]. Idempotent per eventId: a redelivered alert does not count twice.
   */
  hit(key: string, windowMs: number, now: number, eventId: string): Promise<number>;
  /** Does the device have a live (enforcing/active) action? */
  deviceContained(ip: string): Promise<boolean>;
}

/** Configured connectors as ConnectorInfo (capabilities from the registered module of their type). */
export function connectorInfos(config: Pick<Config, 'connectors'>): ConnectorInfo[] {
  return Object.entries(config.connectors).map(([name, entry]) => ({
    name,
    type: entry.type,
    ...(entry.scope ? { scope: entry.scope } : {}),
    capabilities: connectorModules[entry.type]?.capabilities ?? [],
  }));
}
