// evaluate(): thresholds per device and playbook, idempotent counting, escalation (repeat, minScore, deviceContained), approval.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionNames } from '../../src/contracts/action.js';
import { evaluate, evaluateDetailed } from '../../src/decide/evaluate.js';
import { MemoryDecideState } from '../../src/decide/memory-state.js';
import { loadPlaybookText } from '../../src/playbooks/load.js';
import { alert } from '../helpers/alerts.js';

const conns = [{ name: 'dry', type: 'log', capabilities: actionNames }];
function compile(yaml: string) {
  const r = loadPlaybookText('t.yaml', yaml, conns);
  assert.deepEqual(r.problems, []);
  return r.playbooks;
}
const T0 = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;

describe('thresholds', () => {
  const pbs = compile(`name: thr
match: { name: "Scan*", threshold: { count: 3, within: 10m } }
respond: [{ action: rate-limit-new-ports, approval: auto, ttl: 1h }]
`);
  it('fires only from the count-th match within the window, per device', async () => {
    const st = new MemoryDecideState();
    const a = (ip: string, t: number) => evaluate(alert({ name: 'Scan / Ports', device: { ip } }), pbs, st, T0 + t * MIN);
    assert.equal((await a('10.0.0.5', 0)).length, 0);
    assert.equal((await a('10.0.0.5', 1)).length, 0);
    assert.equal((await a('10.0.0.6', 2)).length, 0, 'another device has its own count');
    const third = await a('10.0.0.5', 3);
    assert.equal(third.length, 1);
    assert.equal(third[0]?.action, 'rate-limit-new-ports');
    assert.match(third[0]?.reason ?? '', /3 matching alerts within 10m \(threshold 3\)/);
    assert.equal(third[0]?.ttlMs, 3_600_000);
    assert.equal(third[0]?.approval, 'auto');
  });
  it('forgets matches older than the window', async () => {
    const st = new MemoryDecideState();
    const a = (t: number) => evaluate(alert({ name: 'Scan / Ports' }), pbs, st, T0 + t * MIN);
    await a(0);
    await a(5);
    assert.equal((await a(11)).length, 0, 'the first match slid out of the 10m window');
    assert.equal((await a(12)).length, 1);
  });
  it('counts a redelivered alert once', async () => {
    const st = new MemoryDecideState();
    const same = alert({ name: 'Scan / Ports' });
    for (let i = 0; i < 5; i++) assert.equal((await evaluate(same, pbs, st, T0 + i)).length, 0);
    await evaluate(alert({ name: 'Scan / Ports' }), pbs, st, T0 + 10);
    assert.equal((await evaluate(alert({ name: 'Scan / Ports' }), pbs, st, T0 + 20)).length, 1);
  });
});

describe('escalation', () => {
  const pbs = compile(`name: ssh
match: { name: ["Compromise / SSH Beacon", "Compromise / High Frequency SSH Beacon"] }
respond:
  - { action: block-ssh-egress, approval: auto, ttl: 2h }
  - { action: quarantine-device, ttl: 24h, when: { repeat: 3, within: 24h } }
  - { action: quarantine-device, ttl: 12h, when: { minScore: 0.9, deviceContained: true } }
`);
  it('repeat/within: the third match within 24h adds a quarantine request needing approval', async () => {
    const st = new MemoryDecideState();
    const at = (h: number, name = 'Compromise / SSH Beacon') => evaluate(alert({ name }), pbs, st, T0 + h * 3_600_000);
    assert.deepEqual((await at(0)).map((r) => r.action), ['block-ssh-egress']);
    assert.deepEqual((await at(5, 'Compromise::High Frequency SSH Beacon')).map((r) => r.action), ['block-ssh-egress']);
    const third = await at(20);
    assert.deepEqual(third.map((r) => [r.action, r.approval, r.escalation]), [['block-ssh-egress', 'auto', false], ['quarantine-device', 'required', true]]);
    assert.match(third[1]?.reason ?? '', /Escalation: 3rd match for this device within 1d \(repeat 3\)/);
    assert.deepEqual((await at(30)).map((r) => r.action), ['block-ssh-egress'], 'at 30h only two matches remain in the window');
  });
  it('deviceContained + minScore: a strong alert on a contained device escalates; merged with a repeat escalation', async () => {
    const contained = new Set<string>();
    const st = new MemoryDecideState((ip) => contained.has(ip));
    assert.deepEqual((await evaluate(alert({ score: 0.95 }), pbs, st, T0)).map((r) => r.action), ['block-ssh-egress'], 'not contained yet');
    contained.add('10.1.2.3');
    assert.deepEqual((await evaluate(alert({ score: 0.85 }), pbs, st, T0 + 1)).map((r) => r.action), ['block-ssh-egress'], 'score too low');
    const r = await evaluate(alert({ score: 0.95 }), pbs, st, T0 + 2);
    assert.deepEqual(r.map((x) => x.action), ['block-ssh-egress', 'quarantine-device']);
    assert.equal(r[1]?.ttlMs, 86_400_000, 'repeat (24h) and contained (12h) merged: the longer TTL');
    assert.match(r[1]?.reason ?? '', /the device is already contained/);
    assert.match(r[1]?.reason ?? '', /Also: /);
  });
});

describe('approval, params and targets', () => {
  const pbs = compile(`name: mining
match: { name: "Compromise / High Priority Crypto Currency Mining*", hasPeer: true }
respond: [{ action: block-endpoint, approval: required, autoMinScore: 0.8, ttl: 6h }]
`);
  it('autoMinScore turns required into auto, with the reason', async () => {
    const st = new MemoryDecideState();
    const peer = { ip: '185.71.65.238', port: 3333 };
    const low = await evaluate(alert({ name: 'Compromise / High Priority Crypto Currency Mining', score: 0.6, peer }), pbs, st, T0);
    assert.equal(low[0]?.approval, 'required');
    const high = await evaluate(alert({ name: 'Compromise / High Priority Crypto Currency Mining', score: 0.8, peer, device: { ip: '10.9.9.9', hostname: 'srv-7' } }), pbs, st, T0);
    assert.equal(high[0]?.approval, 'auto');
    assert.match(high[0]?.reason ?? '', /Automatic because score 0.8 ≥ autoMinScore 0.8/);
    assert.deepEqual(high[0]?.params, { ip: '185.71.65.238/32', port: 3333, protocol: 'tcp', scope: 'device' });
    assert.deepEqual(high[0]?.target, { ip: '10.9.9.9', hostname: 'srv-7' });
  });
  it('a hostile device address yields nothing, and says why', async () => {
    const out = await evaluateDetailed(alert({ name: 'Compromise / High Priority Crypto Currency Mining', device: { ip: '10.0.0.1 -j ACCEPT' }, peer: { ip: '185.71.65.238' } }), pbs, new MemoryDecideState(), T0);
    assert.deepEqual(out.requests, []);
    assert.match(out.skipped[0]?.reason ?? '', /device address refused/);
  });
  it('hostile alert text stays data: odd hostnames are dropped from the target, control characters leave the reason', async () => {
    const st = new MemoryDecideState();
    const any = compile('name: any\nmatch: { name: "*" }\nrespond: [{ action: block-ssh-egress, approval: auto }]\n');
    for (const hostname of ['web01; reboot', '=name=x', 'a\r\nb', '\u0000', '\u202eevil', '-rf']) {
      const [r] = await evaluate(alert({ name: 'x\r\ninjected: yes \u202e', device: { hostname } }), any, st, T0);
      assert.deepEqual(r?.target, { ip: '10.1.2.3' }, JSON.stringify(hostname));
      assert.doesNotMatch(r?.reason ?? '', /[\r\n\u0000\u202e]/);
    }
    const [ok] = await evaluate(alert({ device: { hostname: 'build-03.corp.example' } }), any, st, T0);
    assert.deepEqual(ok?.target, { ip: '10.1.2.3', hostname: 'build-03.corp.example' });
  });
  it('a disabled playbook never fires', async () => {
    const off = compile('name: off\nenabled: false\nmatch: { name: x }\nrespond: [{ action: block-ssh-egress }]\n');
    assert.deepEqual(await evaluate(alert({ name: 'x' }), off, new MemoryDecideState(), T0), []);
  });
});
