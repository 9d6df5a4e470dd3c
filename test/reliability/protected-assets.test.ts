// Protected assets are never contained by any path; protecting an asset later lifts what is live on it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestSheriff, SOURCE_TOKEN, waitFor, type TestSheriff } from '../helpers/sheriff.js';
import { testPrefix, testRedis } from '../helpers/redis.js';
import { breach } from './darktrace-breach.js';

const PLAYBOOKS = `
name: p-ssh
description: auto block on beacon, quarantine on the second one (escalation)
match: { source: [darktrace], name: ["Compromise / SSH Beacon"] }
respond:
  - action: block-ssh-egress
    ttl: 2h
    approval: auto
  - action: quarantine-device
    ttl: 2h
    approval: auto
    when: { repeat: 2, within: 1h }
---
name: p-mining
description: block the peer automatically
match: { source: [darktrace], name: ["Compromise / High Priority Crypto Currency Mining"], hasPeer: true }
respond:
  - action: block-endpoint
    params: { scope: device }
    ttl: 2h
    approval: auto
`;
const PROTECTED = { cidrs: ['10.0.0.1/32', '10.200.0.0/16', '45.9.148.7/32'], hostnames: ['dc01.corp.example', '*.infra.example'] };

describe('protected assets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sheriff-protected-'));
  writeFileSync(join(dir, 'p.yaml'), PLAYBOOKS);
  let t: TestSheriff;
  before(async () => {
    t = await startTestSheriff({ playbooks: dir, protected: PROTECTED, connectors: { dry: { type: 'log' } } });
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (items: unknown[]) => {
    const r = await t.sheriff.app!.inject({ method: 'POST', url: '/v1/alerts/darktrace', headers: { authorization: `Bearer ${SOURCE_TOKEN}`, 'content-type': 'application/json' }, payload: JSON.stringify(items) });
    assert.equal(r.statusCode, 202, r.body);
  };
  const actionsOn = async (ip: string) => (await t.api('viewer', 'GET', `/v1/actions?device=${ip}`)).json.items as Array<{ action: string; state: string; params: { ip?: string } }>;
  const protectedDecisions = async () => ((await t.api('viewer', 'GET', '/v1/audit?type=decision.protected&limit=1000')).json.items as Array<{ data: { device: string; action: string } }>);

  it('playbooks and escalation never contain a protected device (by CIDR or hostname glob), not even on repeat offences', async () => {
    const victims = [
      { ip: '10.0.0.1' }, { ip: '10.200.3.4' }, { ip: '10.72.0.1', hostname: 'dc01.corp.example' }, { ip: '10.72.0.2', hostname: 'db.infra.example' },
    ];
    // Three beacons each: enough for the repeat escalation to fire on an unprotected device.
    for (let round = 0; round < 3; round++) await post(victims.map((v) => breach(v.ip, v.hostname ? { hostname: v.hostname } : {})));
    await post([breach('10.72.0.9'), breach('10.72.0.9')]); // a control device: it must get both steps
    await waitFor(async () => (await actionsOn('10.72.0.9')).some((a) => a.action === 'quarantine-device'), 'control device escalated');
    await waitFor(async () => (await protectedDecisions()).length >= victims.length * 3, 'protected decisions audited');
    for (const v of victims) assert.deepEqual(await actionsOn(v.ip), [], `${v.ip} ${v.hostname ?? ''} has no action`);
    const decided = await protectedDecisions();
    assert.ok(decided.some((d) => d.data.action === 'quarantine-device'), 'the escalation step was refused too, not skipped');
  });

  it('manual actions on protected devices are refused (409) and leave no record', async () => {
    for (const target of [{ ip: '10.0.0.1' }, { ip: '10.200.0.9' }, { ip: '10.72.1.1', hostname: 'DC01.corp.example' }, { ip: '10.72.1.2', hostname: 'x.infra.example' }]) {
      for (const action of ['block-ssh-egress', 'quarantine-device', 'rate-limit-new-ports']) {
        const r = await t.api('admin', 'POST', '/v1/actions', { action, target, reason: 'try it' });
        assert.equal(r.status, 409, `${action} on ${JSON.stringify(target)}: ${r.status} ${JSON.stringify(r.json)}`);
        assert.match(r.json.error.message, /protected/);
      }
      assert.deepEqual(await actionsOn(target.ip), []);
    }
  });

  it('block-endpoint never blocks a protected address or a network containing one (manual and playbook)', async () => {
    for (const ip of ['10.0.0.1', '10.200.5.5', '45.9.148.7', '45.9.148.0/24', '10.0.0.0/8']) {
      const r = await t.api('admin', 'POST', '/v1/actions', { action: 'block-endpoint', target: { ip: '10.73.0.1' }, params: { ip, scope: 'all' }, reason: 'try it' });
      assert.ok(r.status === 409 || r.status === 400, `block-endpoint ${ip}: ${r.status} ${JSON.stringify(r.json)}`);
    }
    await post([breach('10.73.0.2', { name: 'Compromise / High Priority Crypto Currency Mining', peer: '45.9.148.7' })]);
    await post([breach('10.73.0.3', { name: 'Compromise / High Priority Crypto Currency Mining', peer: '45.9.149.77' })]);
    await waitFor(async () => (await actionsOn('10.73.0.3')).length > 0, 'the unprotected peer is blocked (control)');
    await waitFor(async () => (await protectedDecisions()).some((d) => d.data.device === '10.73.0.2'), 'protected peer decision');
    assert.deepEqual(await actionsOn('10.73.0.2'), []);
    assert.deepEqual(await actionsOn('10.73.0.1'), []);
  });
});

describe('protecting an asset later lifts live actions on it', () => {
  it('a restart with the device newly protected reverts its live actions, with an audit entry', async () => {
    const prefix = testPrefix('protect-later');
    const first = await startTestSheriff({ connectors: { dry: { type: 'log' } } }, { prefix });
    let second: TestSheriff | undefined;
    try {
      const a = await first.api('approver', 'POST', '/v1/actions', { action: 'quarantine-device', target: { ip: '10.74.0.5' }, reason: 'before' });
      const b = await first.api('approver', 'POST', '/v1/actions', { action: 'block-ssh-egress', target: { ip: '10.74.1.5' }, reason: 'control' });
      const p = await first.api('approver', 'POST', '/v1/actions', { action: 'block-ssh-egress', target: { ip: '10.74.0.6' }, reason: 'pending', approval: 'required' });
      await waitFor(async () => (await first.api('viewer', 'GET', `/v1/actions/${a.json.id}`)).json.state === 'active', 'active');
      await waitFor(async () => (await first.api('viewer', 'GET', `/v1/actions/${b.json.id}`)).json.state === 'active', 'active');
      await first.close({ keepData: true });
      second = await startTestSheriff({ connectors: { dry: { type: 'log' } }, protected: { cidrs: ['10.74.0.0/24'], hostnames: [] } }, { prefix });
      const s = second;
      await waitFor(async () => (await s.api('viewer', 'GET', `/v1/actions/${a.json.id}`)).json.state === 'reverted', 'protected device reverted', 15_000);
      await waitFor(async () => ['denied', 'reverted'].includes((await s.api('viewer', 'GET', `/v1/actions/${p.json.id}`)).json.state), 'pending request closed');
      assert.equal((await s.api('viewer', 'GET', `/v1/actions/${b.json.id}`)).json.state, 'active', 'the unprotected device stays contained');
      const audit = (await s.api('viewer', 'GET', '/v1/audit?type=protected.revert')).json.items as Array<{ actionId: string }>;
      assert.deepEqual(audit.map((e) => e.actionId).sort(), [a.json.id, p.json.id].sort());
      const r = testRedis();
      const keys = await r.hkeys(`${prefix}:log-connector:dry`);
      r.disconnect();
      assert.ok(!keys.some((k) => k.includes(a.json.id)), 'lifted on the connector');
      assert.ok(keys.some((k) => k.includes(b.json.id)));
    } finally {
      await (second ?? first).close().catch(() => undefined);
    }
  });
});
