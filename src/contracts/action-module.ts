// The shape every action in actions/ has: self-description, params schema, param resolution and a pure plan.
import type { z } from 'zod';
import type { ActionName, EnforcementStep, Target } from './action.js';
import type { NormalisedAlert } from './alert.js';
import type { ResponseStep } from './playbook.js';

/** What actions see of an alert: the queue carries alerts without `raw`. */
export type AlertView = Omit<NormalisedAlert, 'raw'> & { raw?: unknown };

export interface PlanContext {
  actionId: string;
  /** Epoch ms; null = the enforcement point keeps no timeout of its own. */
  expiresAt: number | null;
}

export interface ActionModule<S extends z.ZodType = z.ZodType> {
  name: ActionName;
  description: string;
  /** The params schema from src/contracts/action.ts (with defaults). */
  params: S;
  /** The connector capability this action needs (the action name). */
  capability: ActionName;
  defaultTtlMs: number;
  /** A playbook step using this action, shown by `sheriff actions catalog`. */
  example: z.input<typeof ResponseStep>;
  /** Playbook params (+ the alert, when there is one) → validated params. Throws SheriffError VALIDATION. */
  resolveParams(params: unknown, alert?: AlertView): z.output<S>;
  /** Pure: resolved params → connector-neutral steps (validated against EnforcementStep). */
  plan(target: Target, params: z.output<S>, ctx: PlanContext): EnforcementStep[];
}
