// Types the control service works with: what a playbook or operator asks for, and what the guards made of it.
import type { ActionName, Target } from '../contracts/action.js';

export interface ActionRequest {
  playbook: string | null;
  action: ActionName;
  /** Params after defaults and resolution (block-endpoint's ip filled from the alert's peer). */
  params: Record<string, unknown>;
  target: Target;
  ttlMs: number;
  approval: 'auto' | 'required';
  reason: string;
  alertIds: string[];
  /** Set by the decider (alert id + receipt time): the same request made again yields the same action id. */
  idempotencyKey?: string;
}

export type GuardDecision =
  | { outcome: 'protected'; reason: string }
  | { outcome: 'uncovered'; reason: string }
  /** `current`: the record's JSON as the guard read it, if it did (saves a read; a stale one only costs a retry). */
  | { outcome: 'extend'; actionId: string; reason: string; ttlMs: number; current?: string }
  | { outcome: 'create'; mode: 'auto' | 'approval'; ttlMs: number; reasons: string[] };
