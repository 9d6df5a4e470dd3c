// Shared by the actions: schema parsing that fails with one clear VALIDATION error and a pure step check.
import type { z } from 'zod';
import { EnforcementStep } from '../src/contracts/action.js';
import { SheriffError } from '../src/errors.js';

/** "ports.0: Too small…; protocol: Invalid option…" — the params path first, so playbook authors find it. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `unknown param${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    const path = i.path.map(String).join('.');
    return path ? `${path}: ${i.message}` : i.message;
  }).join('; ');
}

export function parseParams<S extends z.ZodType>(action: string, schema: S, params: unknown): z.output<S> {
  const r = schema.safeParse(params ?? {});
  if (!r.success) {
    throw new SheriffError('VALIDATION', `${action}: invalid params: ${describeIssues(r.error.issues)}`, { details: r.error.issues });
  }
  return r.data;
}

/** Every step an action plans is checked against the contract before it leaves the action. */
export function checkedSteps(steps: unknown[]): EnforcementStep[] {
  return steps.map((s) => EnforcementStep.parse(s));
}
