// Turned against us: a flood of genuine-looking Darktrace breaches about many devices cannot quarantine the network.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestSheriff, SOURCE_TOKEN, waitFor, type TestSheriff } from '../helpers/sheriff.js';
import { breach } from './darktrace-breach.js';

const PLAYBOOK = `
name: flood-ssh
description: auto containment on an SSH beacon (the playbook an attacker would like to abuse)
match:
  source: [darktrace]
  name: ["Compromise / SSH Beacon"]
respond:
  - action: block-ssh-egress
    ttl: 2h
    approval: auto
`;

async function all(t: TestSheriff): Promise<Array<{ id: string; state: string; mode: string; reason: string; target: { ip: string } }>> {
  const r = await t.api('viewer', 'GET', '/v1/actions?limit=1000');
  // Deduplicated by id: the list pages through a sorted set by offset, so a record created while it pages can show twice.
  const byId = new Map<string, { id: string; state: string; mode: string; reason: string; target: { ip: string } }>();
  for (const i of r.json.items) byId.set(i.id, i);
  return [...byId.values()];
}

async function flood(t: TestSheriff, devices: string[]) {
  // Several concurrent requests, as a detector (or an attacker with its token) would send them.
  const chunks = Array.from({ length: 5 }, (_v, i) => devices.filter((_d, j) => j % 5 === i));
  const res = await Promise.all(chunks.map((c) => t.sheriff.app!.inject({
    method: 'POST', url: '/v1/alerts/darktrace',
    headers: { authorization: `Bearer ${SOURCE_TOKEN}`, 'content-type': 'application/json' },
    payload: JSON.stringify(c.map((ip) => breach(ip))),
  })));
  for (const r of res) assert.equal(r.statusCode, 202, r.body);
  return waitFor(async () => {
    const items = await all(t);
    return items.length >= devices.length ? items : null;
  }, `${devices.length} actions decided`, 30_000);
}

describe('blast radius under an alert flood', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sheriff-flood-'));
  writeFileSync(join(dir, 'flood.yaml'), PLAYBOOK);
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('limits.maxNewPerHour', () => {
    let t: TestSheriff;
    const LIMIT = 10;
    before(async () => {
      t = await startTestSheriff({ playbooks: dir, limits: { maxNewPerHour: LIMIT, maxActive: 1000 }, connectors: { dry: { type: 'log', scope: ['10.0.0.0/8'] } } });
    });
    after(async () => { await t.close(); });

    it(`120 devices in one burst: at most ${LIMIT} enforced automatically, the rest pending approval with the blast-radius reason`, async () => {
      const devices = Array.from({ length: 120 }, (_v, i) => `10.60.${Math.floor(i / 200)}.${(i % 200) + 1}`);
      const items = await flood(t, devices);
      assert.equal(items.length, devices.length);
      const auto = items.filter((i) => i.mode === 'auto');
      const pending = items.filter((i) => i.state === 'pending_approval');
      assert.ok(auto.length <= LIMIT, `${auto.length} automatic actions with limits.maxNewPerHour ${LIMIT}: ${JSON.stringify(auto.map((a) => [a.state, a.reason, a.target.ip]))}`);
      assert.equal(auto.length, LIMIT, 'the budget is used, not starved');
      assert.equal(pending.length, devices.length - auto.length);
      for (const p of pending) assert.match(p.reason, /blast radius: .*limits\.maxNewPerHour/);
      await waitFor(async () => (await all(t)).filter((i) => i.state === 'active').length === auto.length, 'auto actions active');
      const active = (await all(t)).filter((i) => i.state === 'active');
      assert.ok(active.length <= LIMIT);
      console.log(`# maxNewPerHour flood: ${devices.length} devices -> ${auto.length} auto, ${pending.length} pending_approval`);
    });
  });

  describe('limits.maxActive', () => {
    let t: TestSheriff;
    const LIMIT = 8;
    before(async () => {
      t = await startTestSheriff({ playbooks: dir, limits: { maxNewPerHour: 1000, maxActive: LIMIT }, connectors: { dry: { type: 'log', scope: ['10.0.0.0/8'] } } });
    });
    after(async () => { await t.close(); });

    it(`80 devices in one burst: at most ${LIMIT} active, the rest pending approval with the blast-radius reason`, async () => {
      const devices = Array.from({ length: 80 }, (_v, i) => `10.61.0.${i + 1}`);
      const items = await flood(t, devices);
      const auto = items.filter((i) => i.mode === 'auto');
      const pending = items.filter((i) => i.state === 'pending_approval');
      assert.ok(auto.length <= LIMIT, `${auto.length} automatic actions with limits.maxActive ${LIMIT}`);
      assert.equal(pending.length, devices.length - auto.length);
      for (const p of pending) assert.match(p.reason, /blast radius: .*limits\.maxActive/);
      await waitFor(async () => (await all(t)).filter((i) => i.state === 'active').length === auto.length, 'auto actions active');
      console.log(`# maxActive flood: ${devices.length} devices -> ${auto.length} auto, ${pending.length} pending_approval`);
    });
  });
});
