// Test helper: a minimal valid action record for ledger and enforcer tests.
import type { ActionRecord } from '../../src/contracts/action.js';
import { newActionId } from '../../src/ledger/store.js';

export function actionRecord(ip: string, over: Partial<ActionRecord> = {}): ActionRecord {
  return {
    id: newActionId(), action: 'block-ssh-egress', params: { ports: [22] }, target: { ip }, state: 'active', mode: 'auto', playbook: null,
    alertIds: [], reason: 't', ttlMs: 60_000, createdAt: new Date().toISOString(), connectors: [], history: [],
    ...over,
  };
}
