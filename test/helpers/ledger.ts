// Test helpers: a minimal valid action record for ledger and enforcer tests, and a Ledger on a private prefix.
import { after, before } from 'node:test';
import type { Redis } from 'ioredis';
import type { ActionRecord } from '../../src/contracts/action.js';
import { Ledger, newActionId } from '../../src/ledger/store.js';
import { dropPrefix, testPrefix, testRedis } from './redis.js';

export function actionRecord(ip: string, over: Partial<ActionRecord> = {}): ActionRecord {
  return {
    id: newActionId(), action: 'block-ssh-egress', params: { ports: [22] }, target: { ip }, state: 'active', mode: 'auto', playbook: null,
    alertIds: [], reason: 't', ttlMs: 60_000, createdAt: new Date().toISOString(), connectors: [], history: [],
    ...over,
  };
}

/** A Ledger on a private prefix for one describe block: created before its tests, dropped after them. */
export function useLedger(label: string, opts: { lanes?: number } = {}): { readonly redis: Redis; readonly prefix: string; readonly ledger: Ledger } {
  const f = {} as { redis: Redis; conn: Redis; prefix: string; ledger: Ledger };
  before(() => {
    f.redis = testRedis();
    f.conn = f.redis.duplicate();
    f.prefix = testPrefix(label);
    f.ledger = new Ledger(f.conn, f.prefix, opts);
  });
  after(async () => {
    await dropPrefix(f.redis, f.prefix);
    f.conn.disconnect();
    f.redis.disconnect();
  });
  return f;
}
