// The enforcer against a slow in-memory connector: a revert that lands while an apply is in flight leaves nothing applied.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { ActionRecord, EnforcementStep, Receipt } from '../../src/contracts/action.js';
import type { Connector } from '../../src/contracts/connector.js';
import { Enforcer } from '../../src/enforce/enforcer.js';
import type { ConnectorRegistry } from '../../src/enforce/registry.js';
import { AuditLog } from '../../src/ledger/audit.js';
import { Ledger, newActionId } from '../../src/ledger/store.js';
import { createLogger } from '../../src/log.js';
import { ConnectorError } from '../../src/errors.js';
import { dropPrefix, testPrefix, testRedis } from '../helpers/redis.js';

class SlowConnector implements Connector {
  readonly name = 'slow';
  readonly type = 'memory';
  readonly capabilities = ['block-ssh-egress'] as const;
  readonly entries = new Map<string, Receipt>();
  applies = 0;
  failNext = 0;
  constructor(private readonly delayMs: number) {}
  async start() {}
  async healthcheck() { return { ok: true, detail: 'memory' }; }
  async apply(step: EnforcementStep): Promise<Receipt> {
    this.applies++;
    await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failNext > 0) {
      this.failNext--;
      throw new ConnectorError(this.name, 'CONNECTOR_UNAVAILABLE', 'backend away');
    }
    const r: Receipt = { connector: this.name, actionId: step.actionId, action: step.action, key: `${step.device.ip}`, status: 'enforced', detail: 'in memory', expiresAt: step.expiresAt, data: {} };
    this.entries.set(r.key, r);
    return r;
  }
  async revert(r: Receipt) { this.entries.delete(r.key); }
  async verify(r: Receipt) { return this.entries.has(r.key); }
  async list() { return [...this.entries.values()]; }
  async close() {}
}

describe('enforcer', () => {
  let redis: Redis;
  let prefix: string;
  let ledger: Ledger;
  let enforcer: Enforcer;
  let slow: SlowConnector;
  const conns: Redis[] = [];
  before(() => {
    redis = testRedis();
    prefix = testPrefix('enf');
    const l = redis.duplicate();
    const a = redis.duplicate();
    conns.push(l, a);
    ledger = new Ledger(l, prefix);
    slow = new SlowConnector(300);
    const registry = {
      all: [{ name: 'slow', type: 'memory', connector: slow, capabilities: slow.capabilities, scope: null, inScope: () => true }],
      get: (n: string) => (n === 'slow' ? registry.all[0] : undefined),
      responsible: () => registry.all,
    } as unknown as ConnectorRegistry;
    enforcer = new Enforcer({
      ledger, audit: new AuditLog(a, prefix), registry, log: createLogger({ level: 'silent' }),
      plan: (r: ActionRecord, expiresAt: number) => [{ actionId: r.id, action: 'block-ssh-egress', device: r.target, expiresAt, params: { ports: [22] } }],
      scheduleExpiry: async () => {},
    });
  });
  after(async () => {
    await dropPrefix(redis, prefix);
    for (const c of conns) c.disconnect();
    redis.disconnect();
  });

  async function approved(ip: string): Promise<string> {
    const id = newActionId();
    const now = new Date().toISOString();
    await ledger.create({
      id, action: 'block-ssh-egress', params: { ports: [22] }, target: { ip }, state: 'approved', mode: 'auto', playbook: null,
      alertIds: [], reason: 'test', ttlMs: 60_000, createdAt: now, connectors: [], history: [{ at: now, state: 'approved', by: 't', note: '' }],
    }, { auto: true });
    return id;
  }

  it('a revert during an in-flight apply wins: nothing stays applied', async () => {
    const id = await approved('10.7.0.1');
    const applying = enforcer.apply(id, 'worker');
    await new Promise((r) => setTimeout(r, 100)); // the connector is busy applying
    await enforcer.revert(id, 'operator', 'changed my mind', 'reverted');
    await applying;
    const r = await ledger.mustGet(id);
    assert.equal(r.state, 'reverted');
    assert.equal(slow.entries.has('10.7.0.1'), false, 'the in-flight apply was lifted');
  });

  it('a retryable failure asks for a retry (recording the connector as pending); the last attempt fails the action', async () => {
    const id = await approved('10.7.0.2');
    slow.failNext = 2;
    await assert.rejects(enforcer.apply(id, 'worker'), (e: Error & { retryable?: boolean }) => e.retryable === true);
    const mid = await ledger.mustGet(id);
    assert.equal(mid.state, 'enforcing');
    assert.equal(mid.connectors[0]?.status, 'pending');
    const last = await enforcer.apply(id, 'worker', true);
    assert.equal(last.state, 'failed');
    assert.match(last.history.at(-1)?.note ?? '', /backend away/);
    const again = await enforcer.apply(id, 'worker');
    assert.equal(again.state, 'active', 'a failed action can be enforced again');
  });
});

describe('alert job retention', () => {
  it('keeps alert jobs (id = alert id) for less than the dedupe window, so a later re-delivery is queued again', async () => {
    const { alertRetention } = await import('../../src/queue/names.js');
    for (const windowMs of [86_400_000, 3_600_000, 600_000]) {
      const r = alertRetention(windowMs);
      assert.ok(r.removeOnFail.age * 1000 < windowMs, `failed jobs gone before the ${windowMs} ms window ends`);
      assert.ok(r.removeOnComplete.age * 1000 < windowMs, `completed jobs gone before the ${windowMs} ms window ends`);
    }
  });
});
