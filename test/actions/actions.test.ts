// Each action: params with defaults, clear refusals, peer defaults for block-endpoint, and a plan that fits the contract.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionModules } from '../../actions/index.js';
import { EnforcementStep, actionNames } from '../../src/contracts/action.js';
import { SheriffError } from '../../src/errors.js';
import { alert } from '../helpers/alerts.js';

const ctx = { actionId: 'a-test0001', expiresAt: 1_800_000_000_000 };
const target = { ip: '10.1.2.3' };

describe('actions catalogue', () => {
  it('has one module per action name, each self-described with a valid example', () => {
    assert.deepEqual(Object.keys(actionModules).sort(), [...actionNames].sort());
    for (const name of actionNames) {
      const m = actionModules[name];
      assert.equal(m.name, name);
      assert.equal(m.capability, name);
      assert.ok(m.defaultTtlMs > 0);
      assert.equal(m.example.action, name);
      assert.ok(m.description.length > 20);
    }
  });
});

describe('block-ssh-egress', () => {
  const m = actionModules['block-ssh-egress'];
  it('defaults to ports 22, 2222, 2022 and plans one step', () => {
    const params = m.resolveParams({});
    assert.deepEqual(params, { ports: [22, 2022, 2222] });
    const steps = m.plan(target, params, ctx);
    assert.equal(steps.length, 1);
    assert.deepEqual(EnforcementStep.parse(steps[0]), { action: 'block-ssh-egress', actionId: 'a-test0001', device: target, expiresAt: ctx.expiresAt, params: { ports: [22, 2022, 2222] } });
  });
  it('refuses bad ports and unknown keys with the path in the message', () => {
    assert.throws(() => m.resolveParams({ ports: [22, 70000] }), (e: unknown) => e instanceof SheriffError && e.code === 'VALIDATION' && /ports\.1/.test(e.message));
    assert.throws(() => m.resolveParams({ port: 22 }), /unknown param "port"/);
    assert.throws(() => m.resolveParams({ ports: ['22; rm -rf /'] }), /ports\.0/);
  });
});

describe('block-endpoint', () => {
  const m = actionModules['block-endpoint'];
  it('takes ip and port from the alert peer when the params leave them out', () => {
    const p = m.resolveParams({}, alert({ peer: { ip: '203.0.113.9', port: 3333 } }));
    assert.deepEqual(p, { ip: '203.0.113.9/32', port: 3333, protocol: 'tcp', scope: 'device' });
    const [step] = m.plan(target, p, ctx);
    assert.equal(step?.action, 'block-endpoint');
    assert.equal((step?.params as { ip: string }).ip, '203.0.113.9/32');
  });
  it('keeps an explicit ip and does not borrow the peer port for it', () => {
    const p = m.resolveParams({ ip: '198.51.100.0/24', scope: 'all' }, alert({ peer: { ip: '203.0.113.9', port: 3333 } }));
    assert.deepEqual(p, { ip: '198.51.100.0/24', protocol: 'tcp', scope: 'all' });
  });
  it('refuses clearly when neither params nor alert give an ip', () => {
    assert.throws(() => m.resolveParams({}, alert()), /no ip in the params and the alert names no peer/);
    assert.throws(() => m.resolveParams({}), /no ip/);
  });
  it('refuses hostile or malformed peers and params', () => {
    for (const bad of ['1.2.3.4; reboot', '=name=x', '1.2.3.4\r\n/ip/firewall', '\u0000', 'x'.repeat(10_000), '１.２.３.４']) {
      assert.throws(() => m.resolveParams({}, alert({ peer: { ip: bad } })), SheriffError, `peer ${JSON.stringify(bad.slice(0, 20))}`);
      assert.throws(() => m.resolveParams({ ip: bad }), SheriffError);
    }
    assert.throws(() => m.resolveParams({ ip: '203.0.113.9', scope: 'everyone' }), /scope/);
  });
  it('refuses to plan without a resolved ip', () => {
    assert.throws(() => m.plan(target, { protocol: 'tcp', scope: 'device' }, ctx), /ip missing/);
  });
});

describe('rate-limit-new-ports', () => {
  const m = actionModules['rate-limit-new-ports'];
  it('defaults and bounds', () => {
    assert.deepEqual(m.resolveParams({}), { perMinute: 10, burst: 5 });
    assert.throws(() => m.resolveParams({ perMinute: 0 }), /perMinute/);
    const [step] = m.plan(target, m.resolveParams({ perMinute: 30 }), { ...ctx, expiresAt: null });
    assert.deepEqual(step?.params, { perMinute: 30, burst: 5 });
    assert.equal(step?.expiresAt, null);
  });
});

describe('quarantine-device', () => {
  const m = actionModules['quarantine-device'];
  it('normalises the allow-list and refuses non-CIDRs', () => {
    assert.deepEqual(m.resolveParams({ allow: ['10.0.0.10', '10.0.0.0/24', '10.0.0.10/32'] }), { allow: ['10.0.0.0/24', '10.0.0.10/32'] });
    assert.throws(() => m.resolveParams({ allow: ['10.0.0.0/8 -j ACCEPT'] }), /allow\.0/);
    const [step] = m.plan({ ip: '10.1.2.3', hostname: 'web01' }, m.resolveParams({}), ctx);
    assert.deepEqual(step?.device, { ip: '10.1.2.3', hostname: 'web01' });
  });
});
