// The crowdstrike connector against a fake Falcon API: conformance plus Falcon-specific behaviour.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectorConformance, sampleStep } from '../conformance/connector.js';
import { crowdstrikeConnector } from '../../connectors/crowdstrike/index.js';
import type { EnforcementStep } from '../../src/contracts/action.js';
import { ConnectorError, NotResponsibleError } from '../../src/errors.js';
import { startFakeFalcon, type FakeFalcon } from '../fakes/crowdstrike/server.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

function connect(fake: FakeFalcon, extra: Record<string, unknown> = {}) {
  const options = crowdstrikeConnector.optionsSchema.parse({ baseUrl: fake.url, clientId: fake.knobs.clientId, clientSecret: fake.knobs.clientSecret, ...extra });
  return crowdstrikeConnector.create('falcon', options, { log: silent });
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

/** A fresh fake + connector per test, closed even when the test fails. */
async function withFake(t: { after(fn: () => Promise<void>): void }, extra: Record<string, unknown> = {}) {
  const fake = await startFakeFalcon();
  const connector = connect(fake, extra);
  t.after(async () => { await connector.close(); await fake.close(); });
  return { fake, connector };
}

connectorConformance('crowdstrike (fake Falcon)', async () => {
  const fake = await startFakeFalcon();
  fake.addDevice({ local_ip: '10.0.0.5' });
  let closed = false;
  return {
    connector: connect(fake),
    devices: ['10.0.0.5'],
    breakBackend: async () => { closed = true; await fake.close(); },
    cleanup: async () => { if (!closed) await fake.close(); },
  };
});

describe('crowdstrike connector', () => {
  it('options: region picks the base URL, baseUrl and region together are refused, unknown keys refused', () => {
    const base = { clientId: 'a', clientSecret: 'b' };
    assert.equal(crowdstrikeConnector.optionsSchema.safeParse({ ...base, region: 'eu-1' }).success, true);
    assert.equal(crowdstrikeConnector.optionsSchema.safeParse({ ...base, region: 'eu-1', baseUrl: 'https://x.example' }).success, false);
    assert.equal(crowdstrikeConnector.optionsSchema.safeParse({ ...base, colour: 'red' }).success, false);
    assert.equal(crowdstrikeConnector.optionsSchema.safeParse({ ...base, baseUrl: 'file:///etc/passwd' }).success, false);
  });

  it('contains the exact host, reports pending until Falcon says contained, then lifts on revert', async (t) => {
    const { fake, connector } = await withFake(t);
    const host = fake.addDevice({ local_ip: '10.0.0.7', hostname: 'web01' });
    fake.knobs.pendingReads = 2;
    const receipt = await connector.apply(quarantine('10.0.0.7', 'WEB01'));
    assert.equal(receipt.key, `crowdstrike:${host.device_id}`);
    assert.equal(receipt.status, 'pending');
    assert.equal(await connector.verify(receipt), false, 'containment_pending is not enforced');
    assert.equal(await connector.verify(receipt), true, 'contained is enforced');
    assert.equal(fake.calls('devices-actions', 'contain').length, 1);
    await connector.revert(receipt);
    assert.equal(fake.calls('devices-actions', 'lift_containment').length, 1);
    assert.equal(await connector.verify(receipt), false);
    assert.deepEqual(host.tags, [], 'ownership tag removed after the lift');
  });

  it('apply twice makes one containment call; a later expiresAt only moves the receipt', async (t) => {
    const { fake, connector } = await withFake(t);
    fake.addDevice({ local_ip: '10.0.0.8' });
    const step = quarantine('10.0.0.8');
    await connector.apply(step);
    const again = await connector.apply({ ...step, expiresAt: (step.expiresAt ?? 0) + 3_600_000 });
    assert.equal(fake.calls('devices-actions', 'contain').length, 1);
    assert.equal(again.expiresAt, (step.expiresAt ?? 0) + 3_600_000);
    assert.equal(again.status, 'enforced');
  });

  it('unknown device → NotResponsibleError, no action call', async (t) => {
    const { fake, connector } = await withFake(t);
    fake.addDevice({ local_ip: '10.0.0.9' });
    await assert.rejects(connector.apply(quarantine('10.0.0.10')), NotResponsibleError);
    await assert.rejects(connector.apply(quarantine('10.0.0.9', 'other-host')), NotResponsibleError);
    assert.equal(fake.calls('devices-actions').length, 0);
  });

  it('re-checks entities: a stale search hit with another local_ip is not the device', async (t) => {
    const { fake, connector } = await withFake(t);
    fake.addDevice({ local_ip: '10.0.0.50', indexedIp: '10.0.0.5' });
    await assert.rejects(connector.apply(quarantine('10.0.0.5')), NotResponsibleError);
    assert.equal(fake.calls('devices-actions').length, 0);
  });

  it('several hosts with the IP → CONNECTOR_AMBIGUOUS naming them, nothing contained', async (t) => {
    const { fake, connector } = await withFake(t);
    const a = fake.addDevice({ local_ip: '10.0.0.11' });
    const b = fake.addDevice({ local_ip: '10.0.0.11' });
    await assert.rejects(connector.apply(quarantine('10.0.0.11')), (err: unknown) => {
      code('CONNECTOR_AMBIGUOUS', false)(err);
      assert.match((err as Error).message, new RegExp(a.device_id));
      assert.match((err as Error).message, new RegExp(b.device_id));
      return true;
    });
    assert.equal(fake.calls('devices-actions').length, 0);
    assert.equal(fake.calls('tags').length, 0);
  });

  it('a host contained before sheriff acted: no call, preexisting, revert leaves it contained', async (t) => {
    const { fake, connector } = await withFake(t);
    const host = fake.addDevice({ local_ip: '10.0.0.12', status: 'contained' });
    const receipt = await connector.apply(quarantine('10.0.0.12'));
    assert.equal(receipt.data.preexisting, true);
    assert.equal(receipt.status, 'enforced');
    const listed = (await connector.list()).filter((r) => r.actionId === receipt.actionId);
    assert.deepEqual(listed.map((r) => [r.key, r.data.preexisting]), [[receipt.key, true]]);
    await connector.revert(receipt);
    assert.equal(fake.calls('devices-actions').length, 0, 'neither contain nor lift');
    assert.equal(host.status, 'contained');
    assert.deepEqual(host.tags, []);
  });

  it('two sheriff actions share one containment; the lift waits for the last revert', async (t) => {
    const { fake, connector } = await withFake(t);
    const host = fake.addDevice({ local_ip: '10.0.0.13' });
    const r1 = await connector.apply(quarantine('10.0.0.13'));
    const r2 = await connector.apply(quarantine('10.0.0.13'));
    assert.equal(r2.data.preexisting, false);
    assert.equal(fake.calls('devices-actions', 'contain').length, 1);
    await connector.revert(r1);
    assert.equal(host.status, 'contained');
    assert.equal(await connector.verify(r2), true);
    await connector.revert(r2);
    assert.equal(fake.calls('devices-actions', 'lift_containment').length, 1);
  });

  it('list() recovers key and actionId from Falcon in a fresh connector', async (t) => {
    const { fake, connector } = await withFake(t);
    fake.addDevice({ local_ip: '10.0.0.14', status: 'contained', tags: ['FalconGroupingTags/unrelated'] });
    const r = await connector.apply(quarantine('10.0.0.14'));
    const fresh = connect(fake);
    t.after(() => fresh.close());
    const mine = await connector.apply(quarantine('10.0.0.14'));
    const listed = await fresh.list();
    assert.deepEqual(listed.map((x) => [x.key, x.actionId]).sort(), [[r.key, r.actionId], [mine.key, mine.actionId]].sort());
  });

  it('the allow CIDRs are recorded as not applied, not pretended', async (t) => {
    const { fake, connector } = await withFake(t);
    fake.addDevice({ local_ip: '10.0.0.15' });
    const r = await connector.apply(quarantine('10.0.0.15', undefined, ['198.51.100.0/24']));
    assert.match(r.detail, /198\.51\.100\.0\/24 not applied/);
    assert.deepEqual(r.data.allowNotApplied, ['198.51.100.0/24']);
  });

  it('refreshes the token before it expires (no 401 seen)', async (t) => {
    const { fake, connector } = await withFake(t);
    fake.knobs.tokenTtlSec = 2; // refreshed at half-life; the fake refuses it after 2 s
    fake.addDevice({ local_ip: '10.0.0.16' });
    const r = await connector.apply(quarantine('10.0.0.16'));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal(await connector.verify(r), true);
    assert.ok(fake.calls('/oauth2/token').length >= 2, 'a new token was fetched');
    assert.equal(fake.log.filter((x) => x.status === 401).length, 0);
  });

  it('re-authenticates once on 401, then gives up with CONNECTOR_AUTH (not retryable)', async (t) => {
    const { fake, connector } = await withFake(t);
    fake.addDevice({ local_ip: '10.0.0.17' });
    const r = await connector.apply(quarantine('10.0.0.17'));
    fake.revokeTokens();
    assert.equal(await connector.verify(r), true);
    assert.equal(fake.calls('/oauth2/token').length, 2);
    fake.knobs.failNext = { status: 401, count: 2 };
    await assert.rejects(connector.verify(r), code('CONNECTOR_AUTH', false));
    assert.equal(fake.calls('/oauth2/token').length, 3, 'exactly one re-auth');
  });

  it('bad client credentials → CONNECTOR_AUTH, secret not in the message', async (t) => {
    const { fake } = await withFake(t);
    const bad = connect(fake, { clientSecret: 'wrong-secret-value' });
    await assert.rejects(bad.apply(quarantine('10.0.0.18')), (err: unknown) => {
      code('CONNECTOR_AUTH', false)(err);
      assert.doesNotMatch((err as Error).message, /wrong-secret-value/);
      return true;
    });
  });

  it('429 → CONNECTOR_RATE_LIMITED with retryAt from the epoch header', async (t) => {
    const { fake, connector } = await withFake(t);
    fake.addDevice({ local_ip: '10.0.0.19' });
    const epoch = Math.floor(Date.now() / 1000) + 42;
    fake.knobs.failNext = { status: 429, count: 1, retryAfterEpoch: epoch };
    await assert.rejects(connector.apply(quarantine('10.0.0.19')), (err: unknown) => {
      code('CONNECTOR_RATE_LIMITED', true)(err);
      assert.equal((err as ConnectorError).retryAt, epoch * 1000);
      return true;
    });
  });

  it('500 → retryable CONNECTOR_UNAVAILABLE; a slow answer → retryable CONNECTOR_TIMEOUT', async (t) => {
    const { fake, connector } = await withFake(t, { timeoutMs: 150 });
    fake.addDevice({ local_ip: '10.0.0.20' });
    fake.knobs.failNext = { status: 500, count: 1 };
    await assert.rejects(connector.apply(quarantine('10.0.0.20')), code('CONNECTOR_UNAVAILABLE', true));
    fake.knobs.slowMs = 600;
    await assert.rejects(connector.apply(quarantine('10.0.0.20')), code('CONNECTOR_TIMEOUT', true));
  });

  it('refuses hostile device values and other actions before any request', async (t) => {
    const { fake, connector } = await withFake(t);
    fake.addDevice({ local_ip: '10.0.0.21', hostname: 'ok' });
    const good = quarantine('10.0.0.21');
    const hostile: unknown[] = [
      { ...good, device: { ip: "10.0.0.21' + hostname:'*" } },
      { ...good, device: { ip: '10.0.0.21\r\nX: y' } },
      { ...good, device: { ip: '$(reboot)' } },
      { ...good, device: { ip: '10.0.0.21\u0000' } },
      { ...good, device: { ip: '1'.repeat(10_000) } },
      { ...good, device: { ip: '10.0.0.21', hostname: "ok' + status:'normal" } },
      { ...good, device: { ip: '10.0.0.21', hostname: '=name=x' } },
      { ...good, device: { ip: '10.0.0.21', hostname: 'ok;rm -rf /' } },
      { ...good, device: { ip: '10.0.0.21', hostname: 'ok\r\n' } },
      { ...good, device: { ip: '10.0.0.21', hostname: 'ｏｋ' } },
      { ...good, device: { ip: '10.0.0.21', hostname: 'a'.repeat(10_000) } },
      { ...good, actionId: 'a-1234567890;x' },
      { ...good, actionId: `a-${'b'.repeat(10_000)}` },
      { ...good, actionId: 'a-12345678\n' },
      sampleStep('block-ssh-egress', '10.0.0.21'),
    ];
    for (const step of hostile) {
      await assert.rejects(connector.apply(step as EnforcementStep), code('CONNECTOR_REJECTED', false));
    }
    assert.deepEqual(fake.log, [], 'nothing reached Falcon, not even a token request');
    await connector.revert({ ...(await connector.apply(good)), key: "crowdstrike:abc' OR 1" });
    assert.equal(fake.calls('devices-actions', 'lift_containment').length, 0);
  });
});
