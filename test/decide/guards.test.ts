// Guards, in order: protected assets, coverage, dedupe → extend, blast radius → approval, TTL cap; and paramsKey.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionNames } from '../../src/contracts/action.js';
import { createGuards, paramsKey, type GuardContext } from '../../src/decide/guards.js';
import type { ActionRequest } from '../../src/decide/types.js';

const guards = createGuards({
  protected: { cidrs: ['10.0.0.1/32', '10.10.0.0/16'], hostnames: ['dc01.corp.example', '*.mgmt.corp.example'] },
  limits: { maxNewPerHour: 3, maxActive: 10 },
  ttl: { max: 86_400_000 },
  connectors: [
    { name: 'edge', type: 'iptables', scope: ['10.0.0.0/8'], capabilities: ['block-ssh-egress', 'block-endpoint', 'rate-limit-new-ports', 'quarantine-device'] },
    { name: 'mikrotik', type: 'routeros', scope: ['192.168.88.0/24'], capabilities: ['block-ssh-egress'] },
    { name: 'edr', type: 'crowdstrike', capabilities: ['quarantine-device'] },
  ],
});

const req = (over: Partial<ActionRequest> = {}): ActionRequest => ({
  playbook: 'p', action: 'block-ssh-egress', params: { ports: [22] }, target: { ip: '10.1.2.3' },
  ttlMs: 7_200_000, approval: 'auto', reason: 'r', alertIds: ['x'], escalation: false, ...over,
});
const quiet: GuardContext = { findLive: () => null, newInLastHour: 0, activeCount: 0 };

describe('guards', () => {
  it('protected cidrs and hostnames are never contained', async () => {
    for (const r of [req({ target: { ip: '10.0.0.1' } }), req({ target: { ip: '10.10.3.4' } }), req({ target: { ip: '10.1.2.3', hostname: 'DC01.corp.example' } }), req({ target: { ip: '10.1.2.3', hostname: 'sw1.mgmt.corp.example' } })]) {
      const o = await guards.apply(r, quiet);
      assert.equal(o.outcome, 'protected', JSON.stringify(r.target));
    }
    const o = await guards.apply(req({ target: { ip: '10.10.3.4' } }), quiet);
    assert.match(o.outcome === 'protected' ? o.reason : '', /protected asset \(protected\.cidrs 10\.10\.0\.0\/16\)/);
  });
  it('a block-endpoint that would cut off a protected address is refused', async () => {
    const o = await guards.apply(req({ action: 'block-endpoint', params: { ip: '10.0.0.0/24', scope: 'all', protocol: 'tcp' } }), quiet);
    assert.equal(o.outcome, 'protected');
    const ok = await guards.apply(req({ action: 'block-endpoint', params: { ip: '185.71.65.238/32', scope: 'device', protocol: 'tcp' } }), quiet);
    assert.equal(ok.outcome, 'create');
  });
  it('uncovered: no connector in scope, or none with the capability', async () => {
    const a = await guards.apply(req({ target: { ip: '172.16.0.9' } }), quiet);
    assert.deepEqual([a.outcome, a.outcome === 'uncovered' && a.reason], ['uncovered', 'no connector can block-ssh-egress for 172.16.0.9: the connectors covering it (edr) lack that capability']);
    const scopedOnly = createGuards({ protected: { cidrs: [], hostnames: [] }, limits: { maxNewPerHour: 9, maxActive: 9 }, ttl: { max: 86_400_000 }, connectors: [{ name: 'edge', type: 'iptables', scope: ['10.0.0.0/8'], capabilities: actionNames }] });
    const d = await scopedOnly.apply(req({ target: { ip: '172.16.0.9' } }), quiet);
    assert.deepEqual([d.outcome, d.outcome === 'uncovered' && d.reason], ['uncovered', 'no configured connector\'s scope contains 172.16.0.9']);
    const b = await guards.apply(req({ action: 'rate-limit-new-ports', params: {}, target: { ip: '192.168.88.7' } }), quiet);
    assert.equal(b.outcome, 'uncovered');
    assert.match(b.outcome === 'uncovered' ? b.reason : '', /mikrotik, edr\) lack that capability/);
    const c = await guards.apply(req({ action: 'quarantine-device', params: { allow: [] }, target: { ip: '172.16.0.9' } }), quiet);
    assert.deepEqual(c.outcome === 'create' && c.connectors, ['edr'], 'an unscoped EDR covers every device');
  });
  it('the same containment already live becomes extend with its id', async () => {
    const seen: string[] = [];
    const o = await guards.apply(req({ params: { ports: [2222, 22] } }), {
      ...quiet,
      findLive: async (ip, action, key) => { seen.push(`${ip} ${action} ${key}`); return key === paramsKey('block-ssh-egress', { ports: [22, 2222] }) ? { id: 'a-live0001' } : null; },
    });
    assert.deepEqual(seen, [`10.1.2.3 block-ssh-egress ${paramsKey('block-ssh-egress', { ports: [22, 2222] })}`]);
    assert.equal(o.outcome === 'extend' && o.actionId, 'a-live0001');
  });
  it('blast radius: past the budget auto becomes approval, with the reason; required stays required', async () => {
    const a = await guards.apply(req(), { ...quiet, newInLastHour: 3 });
    assert.equal(a.outcome === 'create' && a.request.approval, 'required');
    assert.match(a.outcome === 'create' ? a.notes.join() : '', /3 new actions in the last hour \(limits\.maxNewPerHour 3\)/);
    const b = await guards.apply(req(), { ...quiet, newInLastHour: 2, activeCount: 10 });
    assert.match(b.outcome === 'create' ? `${b.request.approval} ${b.notes.join()}` : '', /^required .*maxActive 10/);
    const c = await guards.apply(req(), { ...quiet, newInLastHour: 2, activeCount: 9 });
    assert.deepEqual(c.outcome === 'create' && [c.request.approval, c.notes], ['auto', []]);
  });
  it('caps the TTL at ttl.max', async () => {
    const o = await guards.apply(req({ ttlMs: 7 * 86_400_000 }), quiet);
    assert.equal(o.outcome === 'create' && o.request.ttlMs, 86_400_000);
    assert.match(o.outcome === 'create' ? o.notes.join() : '', /ttl capped/);
  });
  it('runs in order: protected wins over uncovered and dedupe', async () => {
    const o = await guards.apply(req({ target: { ip: '10.0.0.1' } }), { ...quiet, findLive: () => ({ id: 'a-live0001' }) });
    assert.equal(o.outcome, 'protected');
  });
});

describe('paramsKey', () => {
  it('is canonical: key order and set order do not matter, values do', () => {
    assert.equal(paramsKey('quarantine-device', { allow: ['10.0.0.2/32', '10.0.0.1/32'] }), paramsKey('quarantine-device', { allow: ['10.0.0.1/32', '10.0.0.2/32'] }));
    assert.equal(paramsKey('block-endpoint', { ip: '1.1.1.1/32', scope: 'device' }), paramsKey('block-endpoint', { scope: 'device', ip: '1.1.1.1/32' }));
    assert.notEqual(paramsKey('block-endpoint', { ip: '1.1.1.1/32', port: 80 }), paramsKey('block-endpoint', { ip: '1.1.1.1/32', port: 443 }));
    assert.notEqual(paramsKey('block-ssh-egress', {}), paramsKey('quarantine-device', {}));
  });
});
