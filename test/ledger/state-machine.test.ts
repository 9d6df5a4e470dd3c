// Every legal and illegal transition of the action state machine.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { actionStates } from '../../src/contracts/action.js';
import { canTransition, transitions } from '../../src/ledger/state-machine.js';

const legal: Array<[string, string]> = [
  ['pending_approval', 'approved'], ['pending_approval', 'denied'], ['pending_approval', 'expired'], ['pending_approval', 'simulated'],
  ['approved', 'enforcing'], ['approved', 'simulated'], ['approved', 'reverted'], ['approved', 'failed'],
  ['enforcing', 'active'], ['enforcing', 'failed'], ['enforcing', 'reverting'],
  ['active', 'enforcing'], ['active', 'reverting'],
  ['reverting', 'reverted'], ['reverting', 'expired'], ['reverting', 'failed'],
  ['failed', 'enforcing'], ['failed', 'reverting'], ['failed', 'reverted'],
  ['simulated', 'expired'], ['simulated', 'reverted'],
];

describe('action state machine', () => {
  it('allows exactly the documented transitions', () => {
    for (const from of actionStates) {
      for (const to of actionStates) {
        const expected = legal.some(([f, t]) => f === from && t === to);
        assert.equal(canTransition(from, to), expected, `${from} → ${to}`);
      }
    }
  });
  it('terminal states go nowhere', () => {
    for (const s of ['expired', 'reverted', 'denied'] as const) assert.deepEqual(transitions[s], []);
  });
  it('approving a denied action or reverting an expired one is illegal', () => {
    assert.equal(canTransition('denied', 'approved'), false);
    assert.equal(canTransition('expired', 'reverting'), false);
  });
});
