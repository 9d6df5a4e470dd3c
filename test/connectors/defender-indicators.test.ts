// block-endpoint through MDE IP indicators (indicators: true): tenant-wide only, whole IP, sheriff's own indicators.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sampleStep } from '../conformance/connector.js';
import { ConnectorError } from '../../src/errors.js';
import type { EnforcementStep } from '../../src/contracts/action.js';
import { fakeAndConnector } from './defender-setup.js';

type BlockStep = Extract<EnforcementStep, { action: 'block-endpoint' }>;
function blockAll(ip = '203.0.113.7/32', port?: number, expiresAt: number | null = Date.now() + 3_600_000): BlockStep {
  const base = sampleStep('block-endpoint', '10.0.0.5', undefined, expiresAt) as BlockStep;
  return { ...base, params: { ip, protocol: 'tcp', scope: 'all', ...(port === undefined ? {} : { port }) } };
}

describe('defender: IP indicators', () => {
  it('capabilities follow the option', async (t) => {
    const off = await fakeAndConnector();
    const on = await fakeAndConnector({ indicators: true });
    t.after(async () => { await off.fake.stop(); await on.fake.stop(); });
    assert.deepEqual(off.connector.capabilities, ['quarantine-device']);
    assert.deepEqual(on.connector.capabilities, ['quarantine-device', 'block-endpoint']);
    await assert.rejects(off.connector.apply(blockAll()), (e: unknown) => e instanceof ConnectorError && e.code === 'CONNECTOR_REJECTED');
    assert.equal(off.fake.log.length, 0);
  });

  it('apply (twice) submits one indicator; list, verify, extend, revert', async (t) => {
    const { fake, connector } = await fakeAndConnector({ indicators: true });
    t.after(() => fake.stop());
    const step = blockAll();
    const r1 = await connector.apply(step);
    const r2 = await connector.apply(step);
    assert.equal(fake.apiCalls('POST', /^\/api\/indicators$/).length, 1);
    assert.equal(r1.key, 'defender:ioc:203.0.113.7');
    assert.equal(r2.key, r1.key);
    assert.equal(r1.status, 'enforced');
    assert.match(r1.detail, /tenant-wide/);
    const sent = JSON.parse(fake.apiCalls('POST')[0]?.body ?? '{}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(sent).sort(), ['action', 'description', 'expirationTime', 'generateAlert', 'indicatorType', 'indicatorValue', 'severity', 'title']);
    assert.equal(sent.indicatorValue, '203.0.113.7');
    assert.equal(sent.title, `sheriff ${step.actionId}`);
    assert.equal(sent.expirationTime, new Date(step.expiresAt as number).toISOString());
    const listed = await connector.list();
    assert.deepEqual(listed.map((r) => [r.key, r.actionId, r.expiresAt]), [[r1.key, step.actionId, step.expiresAt]]);
    assert.equal(await connector.verify(r1), true);
    // extend: a later expiresAt moves the indicator's expirationTime (submit-or-update, same indicator)
    const later = { ...step, expiresAt: (step.expiresAt as number) + 7_200_000 };
    await connector.apply(later);
    assert.equal(fake.state.indicators.length, 1);
    assert.equal(fake.state.indicators[0]?.expirationTime, new Date(later.expiresAt).toISOString());
    await connector.revert(r1);
    await connector.revert(r1);
    assert.equal(fake.apiCalls('DELETE').length, 1);
    assert.equal(await connector.verify(r1), false);
    assert.deepEqual(await connector.list(), []);
  });

  it('a second sheriff action on the same IP adds no call, verifies through the first, and its revert deletes nothing', async (t) => {
    const { fake, connector } = await fakeAndConnector({ indicators: true });
    t.after(() => fake.stop());
    const first = await connector.apply(blockAll());
    const second = await connector.apply(blockAll());
    assert.equal(second.data.containedBy, first.actionId);
    assert.equal(fake.apiCalls('POST').length, 1);
    assert.equal(await connector.verify(second), true);
    await connector.revert(second);
    assert.equal(fake.apiCalls('DELETE').length, 0);
    await connector.revert(first);
    assert.equal(await connector.verify(second), false);
  });

  it('a device-scoped block is refused (indicators are tenant-wide), before any request', async (t) => {
    const { fake, connector } = await fakeAndConnector({ indicators: true });
    t.after(() => fake.stop());
    const step = { ...blockAll(), params: { ...blockAll().params, scope: 'device' as const } };
    await assert.rejects(connector.apply(step), (e: unknown) => e instanceof ConnectorError && e.code === 'CONNECTOR_REJECTED' && /tenant-wide/.test(e.message));
    await assert.rejects(connector.apply(blockAll('203.0.113.0/24')), (e: unknown) => e instanceof ConnectorError && e.code === 'CONNECTOR_REJECTED');
    assert.equal(fake.log.length, 0);
  });

  it('a port cannot be expressed: applied for the whole address and reported partial', async (t) => {
    const { fake, connector } = await fakeAndConnector({ indicators: true });
    t.after(() => fake.stop());
    const r = await connector.apply(blockAll('203.0.113.7/32', 443));
    assert.equal(r.status, 'partial');
    assert.match(r.detail, /port 443 cannot be expressed/);
  });

  it('an indicator sheriff did not make: a block is adopted (preexisting, never deleted); an allow is not overridden', async (t) => {
    const { fake, connector } = await fakeAndConnector({ indicators: true });
    t.after(() => fake.stop());
    fake.state.upsertIndicator({ indicatorValue: '203.0.113.7', indicatorType: 'IpAddress', action: 'Block', title: 'TI feed: mining pool', description: 'x' });
    fake.state.upsertIndicator({ indicatorValue: '203.0.113.8', indicatorType: 'IpAddress', action: 'Allowed', title: 'partner VPN', description: 'x' });
    const r = await connector.apply(blockAll('203.0.113.7/32'));
    assert.equal(r.data.preexisting, true);
    assert.equal(await connector.verify(r), true);
    await connector.revert(r);
    await assert.rejects(connector.apply(blockAll('203.0.113.8/32')), (e: unknown) => e instanceof ConnectorError && e.code === 'CONNECTOR_REJECTED' && /Allowed/.test(e.message));
    assert.equal(fake.apiCalls('POST').length + fake.apiCalls('DELETE').length, 0);
    assert.deepEqual(fake.state.indicators.map((i) => i.title), ['TI feed: mining pool', 'partner VPN']);
    assert.deepEqual(await connector.list(), []);
  });
});
