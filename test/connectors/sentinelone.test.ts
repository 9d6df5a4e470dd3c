// The sentinelone connector against a fake SentinelOne API: conformance plus SentinelOne-specific behaviour.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectorConformance, sampleStep } from '../conformance/connector.js';
import { sentineloneConnector } from '../../connectors/sentinelone/index.js';
import type { EnforcementStep } from '../../src/contracts/action.js';
import { ConnectorError, NotResponsibleError } from '../../src/errors.js';
import { startFakeS1, type FakeS1 } from '../fakes/sentinelone/server.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

function connect(fake: FakeS1, extra: Record<string, unknown> = {}) {
  const options = sentineloneConnector.optionsSchema.parse({ baseUrl: fake.url, apiToken: fake.token, ...extra });
  return sentineloneConnector.create('s1', options, { log: silent });
}

function quarantine(ip: string, hostname?: string, allow: string[] = []): EnforcementStep {
  const step = sampleStep('quarantine-device', ip);
  return { ...step, device: hostname ? { ip, hostname } : { ip }, params: { allow } } as EnforcementStep;
}

function code(expected: string, retryable?: boolean) {
  return (err: unknown) => {
    assert.ok(err instanceof ConnectorError, `ConnectorError expected, got ${String(err)}`);
    assert.equal(err.code, expected);
    if (retryable !== undefined) assert.equal(err.retryable, retryable);
    return true;
  };
}

async function withFake(t: { after(fn: () => Promise<void>): void }, extra: Record<string, unknown> = {}) {
  const fake = await startFakeS1();
  const connector = connect(fake, extra);
  t.after(async () => { await connector.close(); await fake.close(); });
  return { fake, connector };
}

const actionCalls = (fake: FakeS1, what: 'disconnect' | 'connect') => fake.calls(`/actions/${what}`).length;

connectorConformance('sentinelone (fake S1)', async () => {
  const fake = await startFakeS1();
  fake.addAgent({ ips: ['10.0.0.5'] });
  fake.addAgent({ ips: ['10.0.0.50'] }); // the substring filter also returns this one
  let closed = false;
  return {
    connector: connect(fake),
    devices: ['10.0.0.5'],
    breakBackend: async () => { closed = true; await fake.close(); },
    cleanup: async () => { if (!closed) await fake.close(); },
  };
});

describe('sentinelone connector', () => {
  it('options are strict and need an http(s) console URL', () => {
    assert.equal(sentineloneConnector.optionsSchema.safeParse({ baseUrl: 'https://x.sentinelone.net', apiToken: 't', siteIds: ['123'] }).success, true);
    assert.equal(sentineloneConnector.optionsSchema.safeParse({ baseUrl: 'https://x.sentinelone.net', apiToken: 't', siteIds: ['1;2'] }).success, false);
    assert.equal(sentineloneConnector.optionsSchema.safeParse({ baseUrl: 'ftp://x', apiToken: 't' }).success, false);
    assert.equal(sentineloneConnector.optionsSchema.safeParse({ baseUrl: 'https://x.sentinelone.net', apiToken: 't', extra: 1 }).success, false);
  });

  it('substring filter: 10.0.0.5 matches only the agent with exactly that address', async (t) => {
    const { fake, connector } = await withFake(t);
    fake.addAgent({ ips: ['10.0.0.50'] });
    fake.addAgent({ ips: ['110.0.0.5'] });
    await assert.rejects(connector.apply(quarantine('10.0.0.5')), NotResponsibleError);
    const exact = fake.addAgent({ ips: ['192.168.1.4', '10.0.0.5'] });
    const r = await connector.apply(quarantine('10.0.0.5'));
    assert.equal(r.key, `sentinelone:${exact.id}`);
    assert.equal(actionCalls(fake, 'disconnect'), 1);
    assert.deepEqual(fake.calls('/actions/disconnect')[0]?.body, { filter: { ids: [exact.id] } });
  });

  it('hostname narrows the match; a different computer name is not the device', async (t) => {
    const { fake, connector } = await withFake(t);
    fake.addAgent({ ips: ['10.0.1.5'], computerName: 'DB01' });
    await assert.rejects(connector.apply(quarantine('10.0.1.5', 'web01')), NotResponsibleError);
    const r = await connector.apply(quarantine('10.0.1.5', 'db01'));
    assert.equal(r.data.computerName, 'DB01');
  });

  it('several agents with the address → CONNECTOR_AMBIGUOUS, nothing disconnected', async (t) => {
    const { fake, connector } = await withFake(t);
    const a = fake.addAgent({ ips: ['10.0.1.6'] });
    const b = fake.addAgent({ ips: ['10.0.1.6'] });
    await assert.rejects(connector.apply(quarantine('10.0.1.6')), (err: unknown) => {
      code('CONNECTOR_AMBIGUOUS', false)(err);
      assert.match((err as Error).message, new RegExp(`${a.id}.*${b.id}|${b.id}.*${a.id}`));
      return true;
    });
    assert.equal(fake.log.filter((r) => r.method === 'POST').length, 0);
  });

  it('pending → receipt pending, verify false until disconnected; revert reconnects', async (t) => {
    const { fake, connector } = await withFake(t);
    const agent = fake.addAgent({ ips: ['10.0.1.7'] });
    fake.knobs.pendingReads = 2;
    const r = await connector.apply(quarantine('10.0.1.7'));
    assert.equal(r.status, 'pending');
    assert.equal(await connector.verify(r), false);
    assert.equal(await connector.verify(r), true);
    await connector.revert(r);
    assert.equal(actionCalls(fake, 'connect'), 1);
    assert.equal(agent.externalId, '');
    assert.equal(await connector.verify(r), false);
  });

  it('apply twice → one disconnect call', async (t) => {
    const { fake, connector } = await withFake(t);
    fake.addAgent({ ips: ['10.0.1.8'] });
    const step = quarantine('10.0.1.8');
    const r1 = await connector.apply(step);
    const r2 = await connector.apply(step);
    assert.equal(r1.key, r2.key);
    assert.equal(actionCalls(fake, 'disconnect'), 1);
  });

  it('already disconnected by someone else: no call, preexisting, revert leaves it disconnected', async (t) => {
    const { fake, connector } = await withFake(t);
    const agent = fake.addAgent({ ips: ['10.0.1.9'], networkStatus: 'disconnected' });
    const r = await connector.apply(quarantine('10.0.1.9'));
    assert.equal(r.data.preexisting, true);
    assert.equal(actionCalls(fake, 'disconnect'), 0);
    assert.deepEqual((await connector.list()).map((x) => [x.actionId, x.data.preexisting]), [[r.actionId, true]]);
    await connector.revert(r);
    assert.equal(actionCalls(fake, 'connect'), 0);
    assert.equal(agent.networkStatus, 'disconnected');
  });

  it('never overwrites a customer externalId; disconnected ones count as preexisting', async (t) => {
    const { fake, connector } = await withFake(t);
    const agent = fake.addAgent({ ips: ['10.0.1.10'], externalId: 'asset-4711' });
    await assert.rejects(connector.apply(quarantine('10.0.1.10')), code('CONNECTOR_REJECTED', false));
    assert.equal(agent.externalId, 'asset-4711');
    assert.equal(actionCalls(fake, 'disconnect'), 0);
    agent.networkStatus = 'disconnected';
    const r = await connector.apply(quarantine('10.0.1.10'));
    assert.equal(r.data.preexisting, true);
    await connector.revert(r);
    assert.equal(agent.networkStatus, 'disconnected');
    assert.equal(agent.externalId, 'asset-4711');
  });

  it('two actions share a disconnect; reconnect only after the last revert; list from a fresh connector', async (t) => {
    const { fake, connector } = await withFake(t);
    const agent = fake.addAgent({ ips: ['10.0.1.11'] });
    const r1 = await connector.apply(quarantine('10.0.1.11'));
    const r2 = await connector.apply(quarantine('10.0.1.11'));
    const fresh = connect(fake);
    assert.deepEqual((await fresh.list()).map((x) => [x.key, x.actionId]).sort(), [[r1.key, r1.actionId], [r2.key, r2.actionId]].sort());
    await connector.revert(r1);
    assert.equal(agent.networkStatus, 'disconnected');
    await connector.revert(r2);
    assert.equal(actionCalls(fake, 'connect'), 1);
  });

  it('records the allow CIDRs as not applied', async (t) => {
    const { fake, connector } = await withFake(t);
    fake.addAgent({ ips: ['10.0.1.12'] });
    const r = await connector.apply(quarantine('10.0.1.12', undefined, ['198.51.100.0/24']));
    assert.match(r.detail, /198\.51\.100\.0\/24 not applied/);
  });

  it('siteIds scope every query', async (t) => {
    const { fake, connector } = await withFake(t, { siteIds: ['999'] });
    fake.addAgent({ ips: ['10.0.1.13'] });
    await assert.rejects(connector.apply(quarantine('10.0.1.13')), NotResponsibleError);
    assert.equal(fake.log[0]?.query.get('siteIds'), '999');
  });

  it('a bad token → CONNECTOR_AUTH (not retryable), token not in the message', async (t) => {
    const { fake } = await withFake(t);
    const bad = connect(fake, { apiToken: 'not-the-token-xyz' });
    await assert.rejects(bad.apply(quarantine('10.0.1.14')), (err: unknown) => {
      code('CONNECTOR_AUTH', false)(err);
      assert.doesNotMatch((err as Error).message, /not-the-token-xyz/);
      return true;
    });
  });

  it('429 → CONNECTOR_RATE_LIMITED with retryAt from Retry-After; 500 and slow answers retryable', async (t) => {
    const { fake, connector } = await withFake(t, { timeoutMs: 150 });
    fake.addAgent({ ips: ['10.0.1.15'] });
    fake.knobs.failNext = { status: 429, count: 1, retryAfter: '30' };
    const before = Date.now();
    await assert.rejects(connector.apply(quarantine('10.0.1.15')), (err: unknown) => {
      code('CONNECTOR_RATE_LIMITED', true)(err);
      const at = (err as ConnectorError).retryAt ?? 0;
      assert.ok(at >= before + 30_000 && at <= Date.now() + 30_000, `retryAt ${at} is 30 s after the answer`);
      return true;
    });
    fake.knobs.failNext = { status: 503, count: 1 };
    await assert.rejects(connector.apply(quarantine('10.0.1.15')), code('CONNECTOR_UNAVAILABLE', true));
    fake.knobs.slowMs = 600;
    await assert.rejects(connector.apply(quarantine('10.0.1.15')), code('CONNECTOR_TIMEOUT', true));
  });

  it('refuses hostile device values before any request', async (t) => {
    const { fake, connector } = await withFake(t);
    const good = quarantine('10.0.1.16');
    const hostile: unknown[] = [
      { ...good, device: { ip: '10.0.1.16&siteIds=1' } },
      { ...good, device: { ip: '10.0.1.16\r\n' } },
      { ...good, device: { ip: '`id`' } },
      { ...good, device: { ip: '\u0000' } },
      { ...good, device: { ip: '9'.repeat(10_000) } },
      { ...good, device: { ip: '10.0.1.16', hostname: 'x&networkStatuses=connected' } },
      { ...good, device: { ip: '10.0.1.16', hostname: '=comment=x' } },
      { ...good, device: { ip: '10.0.1.16', hostname: '$(id)' } },
      { ...good, device: { ip: '10.0.1.16', hostname: 'x\u0000' } },
      { ...good, device: { ip: '10.0.1.16', hostname: 'h\u200bost' } },
      { ...good, device: { ip: '10.0.1.16', hostname: 'h'.repeat(10_000) } },
      { ...good, actionId: 'a-12345678,pre.a-x' },
      { ...good, actionId: '' },
      sampleStep('block-endpoint', '10.0.1.16'),
    ];
    for (const step of hostile) {
      await assert.rejects(connector.apply(step as EnforcementStep), code('CONNECTOR_REJECTED', false));
    }
    assert.deepEqual(fake.log, []);
  });
});
