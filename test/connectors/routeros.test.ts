// The routeros connector against the fake router: conformance, router state per action, placement, timeouts, reboot, errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connectorConformance, newActionId, sampleStep } from '../conformance/connector.js';
import { ConnectorError } from '../../src/errors.js';
import { parseRosDuration } from '../../connectors/routeros/plan.js';
import type { Connector } from '../../src/contracts/connector.js';
import type { EnforcementStep } from '../../src/contracts/action.js';
import type { FakeRouterOsServer } from '../fakes/routeros/server.js';
import { connectTo, sheriffRules, startFake } from './routeros-setup.js';

connectorConformance('routeros (fake router)', async () => {
  const fake = await startFake();
  return {
    connector: connectTo(fake),
    devices: ['10.20.0.5'],
    breakBackend: async () => { await fake.close(); },
    cleanup: async () => { await fake.close(); },
  };
});

describe('routeros: router state', () => {
  let fake: FakeRouterOsServer;
  let c: Connector;
  before(async () => {
    fake = await startFake();
    c = connectTo(fake);
    await c.start();
  });
  after(async () => {
    await c.close();
    await fake.close();
  });

  const rule = (list: string, part: string) => fake.router.filter.find((r) => r.props.comment === `sheriff:rule:${list}:${part}`)?.props;

  it('start() creates the internal list and the default rules', () => {
    assert.deepEqual(fake.router.entriesOf('sheriff-internal').map((e) => e.address).sort(), ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']);
    assert.ok(fake.router.entriesOf('sheriff-internal').every((e) => e.expiresAt === null && e.comment === 'sheriff:internal'));
    assert.deepEqual(rule('block-ssh-egress:sheriff-block-ssh-egress', 'r0'), {
      chain: 'forward', 'src-address-list': 'sheriff-block-ssh-egress', protocol: 'tcp', 'dst-port': '22,2022,2222',
      'dst-address-list': '!sheriff-internal', action: 'reject', 'reject-with': 'tcp-reset', comment: 'sheriff:rule:block-ssh-egress:sheriff-block-ssh-egress:r0',
    });
    assert.equal(rule('quarantine-device:sheriff-quarantine', 'out')?.action, 'drop');
    assert.equal(rule('block-endpoint:sheriff-block-endpoint-dst', 'r0')?.['dst-address-list'], 'sheriff-block-endpoint-dst');
  });

  it('block-ssh-egress: one timed entry with the action id, counting down', async () => {
    const step = sampleStep('block-ssh-egress', '10.20.0.7', newActionId(), Date.now() + 2 * 3_600_000);
    const r = await c.apply(step);
    assert.equal(r.key, 'sheriff-block-ssh-egress|10.20.0.7');
    const [e] = fake.router.entriesOf('sheriff-block-ssh-egress').filter((x) => x.address === '10.20.0.7');
    assert.equal(e?.comment, `sheriff:${step.actionId}`);
    const sent = fake.commands('/ip/firewall/address-list/add').at(-1) ?? [];
    const timeout = parseRosDuration(sent.find((w) => w.startsWith('=timeout='))?.slice(9) ?? '') ?? 0;
    assert.ok(timeout > 7190 && timeout <= 7200, `timeout ${timeout}s`);
    fake.router.advance(3_600_000);
    const [listed] = (await c.list()).filter((x) => x.key === r.key);
    assert.ok(listed && listed.expiresAt !== null && listed.expiresAt < Date.now() + 3_601_000, 'the remaining timeout shrank');
    fake.router.advance(3_601_000);
    assert.equal(await c.verify(r), false, 'gone once the router-side timeout ran out');
    assert.deepEqual((await c.list()).filter((x) => x.key === r.key), []);
  });

  it('block-ssh-egress with other ports gets a list and rule of its own', async () => {
    const step = { ...sampleStep('block-ssh-egress', '10.20.0.8'), params: { ports: [22, 8022] } } as EnforcementStep;
    const r = await c.apply(step);
    const list = r.key.split('|')[0] as string;
    assert.match(list, /^sheriff-block-ssh-egress-[0-9a-f]{8}$/);
    assert.equal(rule(`block-ssh-egress:${list}`, 'r0')?.['dst-port'], '22,8022');
    await c.revert(r);
  });

  it('block-endpoint (device): a rule per endpoint, the device in its list', async () => {
    const r = await c.apply(sampleStep('block-endpoint', '10.20.0.9'));
    const list = r.key.split('|')[0] as string;
    assert.match(list, /^sheriff-block-endpoint-[0-9a-f]{8}$/);
    assert.deepEqual(rule(`block-endpoint:${list}`, 'r0'), {
      chain: 'forward', 'src-address-list': list, 'dst-address': '203.0.113.7', protocol: 'tcp', 'dst-port': '443', action: 'drop',
      comment: `sheriff:rule:block-endpoint:${list}:r0`,
    });
    assert.deepEqual(fake.router.entriesOf(list).map((e) => e.address), ['10.20.0.9']);
  });

  it('block-endpoint (all): the endpoint itself is the entry', async () => {
    const step = { ...sampleStep('block-endpoint', '10.20.0.9'), params: { ip: '198.51.100.0/24', protocol: 'tcp', scope: 'all' } } as EnforcementStep;
    const r = await c.apply(step);
    assert.equal(r.key, 'sheriff-block-endpoint-dst|198.51.100.0/24');
  });

  it('quarantine-device: drop both ways except the allow list', async () => {
    const r = await c.apply(sampleStep('quarantine-device', '10.20.0.10'));
    const list = r.key.split('|')[0] as string;
    assert.deepEqual(fake.router.entriesOf(`${list}-allow`).map((e) => [e.address, e.expiresAt]), [['198.51.100.0/24', null]]);
    assert.equal(rule(`quarantine-device:${list}`, 'out')?.['dst-address-list'], `!${list}-allow`);
    assert.equal(rule(`quarantine-device:${list}`, 'in')?.['src-address-list'], `!${list}-allow`);
    assert.equal(rule(`quarantine-device:${list}`, 'in')?.['dst-address-list'], list);
  });

  it('rate-limit-new-ports: new connections jump to a chain that returns under dst-limit and drops above', async () => {
    const step = { ...sampleStep('rate-limit-new-ports', '10.20.0.11'), params: { perMinute: 30, burst: 10 } } as EnforcementStep;
    const r = await c.apply(step);
    const list = r.key.split('|')[0] as string;
    const chain = fake.router.filter.filter((x) => x.props.chain === list).map((x) => x.props);
    assert.deepEqual(chain.map((p) => [p.action, p['dst-limit']]), [['return', '30/1m,10,src-address/1m'], ['drop', undefined]]);
    const jump = rule(`rate-limit-new-ports:${list}`, 'jump');
    assert.equal(jump?.['connection-state'], 'new');
    assert.equal(jump?.['jump-target'], list);
    assert.ok(!fake.wireText().includes('connection-rate'));
  });

  it('apply twice is one entry; a later expiresAt moves the router timeout (extend)', async () => {
    const step = sampleStep('quarantine-device', '10.20.0.12', newActionId(), Date.now() + 600_000);
    await c.apply(step);
    const adds = fake.commands('/ip/firewall/address-list/add').length;
    await c.apply({ ...step, expiresAt: Date.now() + 7_200_000 });
    assert.equal(fake.commands('/ip/firewall/address-list/add').length, adds, 'no second add');
    const entries = fake.router.entriesOf((await c.apply(step)).key.split('|')[0] as string).filter((e) => e.address === '10.20.0.12');
    assert.equal(entries.length, 1);
    await c.apply({ ...step, expiresAt: Date.now() + 7_200_000 });
    const [e] = fake.router.entriesOf(entries[0]?.list as string).filter((x) => x.address === '10.20.0.12');
    assert.ok(e && e.expiresAt !== null && e.expiresAt - fake.router.now() > 7_000_000);
  });

  it('a permanent step replaces a timed entry (RouterOS cannot unset a timeout)', async () => {
    const step = sampleStep('block-ssh-egress', '10.20.0.13');
    await c.apply(step);
    await c.apply({ ...step, expiresAt: null });
    const found = fake.router.entriesOf('sheriff-block-ssh-egress').filter((e) => e.address === '10.20.0.13');
    assert.deepEqual(found.map((e) => e.expiresAt), [null]);
  });

  it('revert leaves an entry that another action has taken over; list() ignores entries sheriff did not write', async () => {
    const first = sampleStep('block-ssh-egress', '10.20.0.14');
    const r1 = await c.apply(first);
    const r2 = await c.apply({ ...first, actionId: newActionId() });
    await c.revert(r1);
    assert.equal(await c.verify(r2), true);
    await c.revert(r2);
    assert.equal(await c.verify(r2), false);
    fake.router.entries.set('*FFFF', { id: '*FFFF', list: 'sheriff-block-ssh-egress', address: '10.20.0.15', expiresAt: null, comment: 'added by hand', disabled: false, created: Date.now() });
    assert.ok(!(await c.list()).some((r) => r.key === 'sheriff-block-ssh-egress|10.20.0.15'));
  });

  it('reboot drops the timed entries: list() shows the loss and a re-apply restores them', async () => {
    const step = sampleStep('quarantine-device', '10.20.0.16');
    const r = await c.apply(step);
    fake.reboot();
    assert.ok(!(await c.list()).some((x) => x.key === r.key), 'lost after reboot');
    assert.ok(sheriffRules(fake).length > 0, 'static rules survive');
    await c.apply(step);
    const listed = (await c.list()).filter((x) => x.key === r.key);
    assert.deepEqual(listed.map((x) => x.actionId), [step.actionId]);
  });
});

describe('routeros: rule placement', () => {
  it('goes above the operator rules but below dynamic ones, and start twice adds nothing', async () => {
    const fake = await startFake();
    const c = connectTo(fake);
    try {
      fake.router.seedRule({ chain: 'forward', action: 'passthrough', comment: 'special dummy rule to show fasttrack counters' }, true);
      fake.router.seedRule({ chain: 'forward', action: 'accept', 'connection-state': 'established,related', comment: 'defconf: accept established' });
      await c.start();
      const count = fake.router.filter.length;
      await c.start();
      await connectTo(fake).start();
      assert.equal(fake.router.filter.length, count, 'no duplicates');
      const order = fake.router.filter.map((r) => r.props.comment ?? '');
      assert.equal(order[0], 'special dummy rule to show fasttrack counters');
      const firstOperator = order.indexOf('defconf: accept established');
      const forwardSheriff = fake.router.filter.filter((r) => r.props.chain === 'forward' && r.props.comment?.startsWith('sheriff:rule:'));
      assert.ok(forwardSheriff.every((r) => fake.router.filter.indexOf(r) < firstOperator));
    } finally {
      await c.close();
      await fake.close();
    }
  });

  it('goes before a configured anchor comment, and moves strays back above it', async () => {
    const fake = await startFake();
    const c = connectTo(fake, { anchorComment: 'sheriff goes here' });
    try {
      fake.router.seedRule({ chain: 'forward', action: 'accept', comment: 'operator top' });
      fake.router.seedRule({ chain: 'forward', action: 'accept', comment: 'sheriff goes here' });
      fake.router.seedRule({ chain: 'forward', action: 'drop', comment: 'operator bottom' });
      await c.start();
      const pos = (comment: string) => fake.router.filter.findIndex((r) => r.props.comment === comment);
      const forward = () => fake.router.filter.filter((r) => r.props.chain === 'forward' && r.props.comment?.startsWith('sheriff:rule:'));
      assert.ok(forward().every((r) => fake.router.filter.indexOf(r) > pos('operator top') && fake.router.filter.indexOf(r) < pos('sheriff goes here')));
      const stray = forward()[0];
      assert.ok(stray);
      fake.router.filter.splice(fake.router.filter.indexOf(stray), 1);
      fake.router.filter.push(stray);
      const c2 = connectTo(fake, { anchorComment: 'sheriff goes here' });
      await c2.start();
      await c2.close();
      assert.ok(fake.router.filter.indexOf(stray) < pos('sheriff goes here'), 'moved back above the anchor');
      assert.equal(fake.commands('/ip/firewall/filter/move').length, 1);
    } finally {
      await c.close();
      await fake.close();
    }
  });

  it('a missing anchor is a clear, non-retryable error', async () => {
    const fake = await startFake();
    const c = connectTo(fake, { anchorComment: 'not there' });
    try {
      await assert.rejects(c.start(), (err: unknown) => err instanceof ConnectorError && err.code === 'CONNECTOR_REJECTED' && !err.retryable && /not there/.test(err.message));
    } finally {
      await c.close();
      await fake.close();
    }
  });
});

describe('routeros: connection failures', () => {
  it('a wrong password is CONNECTOR_AUTH, not retryable, and does not echo the password', async () => {
    const fake = await startFake();
    const c = connectTo(fake, { password: 'hunter2-wrong' });
    try {
      await assert.rejects(c.apply(sampleStep('block-ssh-egress', '10.20.1.1')), (err: unknown) => {
        assert.ok(err instanceof ConnectorError);
        assert.equal(err.code, 'CONNECTOR_AUTH');
        assert.equal(err.retryable, false);
        assert.match(err.message, /refused the login of user "sheriff"/);
        assert.ok(!err.message.includes('hunter2'));
        return true;
      });
      fake.refuseLogin = true;
      await assert.rejects(connectTo(fake).healthcheck().then((h) => { if (!h.ok) throw new Error(h.detail); }), /wrong user name or password/);
    } finally {
      await c.close();
      await fake.close();
    }
  });

  it('a slow router gives CONNECTOR_TIMEOUT (retryable); the next command reconnects', async () => {
    const fake = await startFake();
    const c = connectTo(fake, { timeout: '1s' });
    try {
      await c.start();
      fake.delayMs = 1500;
      await assert.rejects(c.apply(sampleStep('block-ssh-egress', '10.20.1.2')), (err: unknown) => err instanceof ConnectorError && err.code === 'CONNECTOR_TIMEOUT' && err.retryable);
      fake.delayMs = 0;
      const r = await c.apply(sampleStep('block-ssh-egress', '10.20.1.2'));
      assert.equal(await c.verify(r), true);
    } finally {
      await c.close();
      await fake.close();
    }
  });

  it('!fatal or a dropped connection fails an in-flight write as retryable, then reconnects', async () => {
    const fake = await startFake();
    const c = connectTo(fake, { poolSize: 1 });
    try {
      await c.start();
      fake.dropOn = { command: '/ip/firewall/address-list/add', nth: 1, when: 'before' };
      await assert.rejects(c.apply(sampleStep('block-ssh-egress', '10.20.1.3')), (err: unknown) => err instanceof ConnectorError && err.code === 'CONNECTOR_UNAVAILABLE' && err.retryable);
      await c.apply(sampleStep('block-ssh-egress', '10.20.1.3'));
      fake.fatal('session terminated on request');
      // A command racing the !fatal fails as a dropped connection; the one after it reconnects.
      const first = await c.healthcheck();
      if (!first.ok) assert.match(first.detail, /dropped/);
      const h = await c.healthcheck();
      assert.equal(h.ok, true, h.detail);
    } finally {
      await c.close();
      await fake.close();
    }
  });
});
