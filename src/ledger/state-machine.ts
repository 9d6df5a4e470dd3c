// The action state machine: which transitions are legal, which states are live or terminal.
import type { ActionState } from '../contracts/action.js';

export const transitions: Record<ActionState, readonly ActionState[]> = {
  pending_approval: ['approved', 'denied', 'expired', 'simulated'],
  approved: ['enforcing', 'simulated', 'reverted', 'failed'],
  enforcing: ['active', 'failed', 'reverting'],
  active: ['enforcing', 'reverting'],
  reverting: ['reverted', 'expired', 'failed'],
  failed: ['enforcing', 'reverting', 'reverted'],
  simulated: ['expired', 'reverted'],
  expired: [],
  reverted: [],
  denied: [],
};

/** Live actions count for dedupe: a second identical request extends them instead of creating another. */
export const liveStates: readonly ActionState[] = ['pending_approval', 'approved', 'enforcing', 'active', 'simulated'];
export const terminalStates: readonly ActionState[] = ['expired', 'reverted', 'denied'];

export function canTransition(from: ActionState, to: ActionState): boolean {
  return transitions[from].includes(to);
}
