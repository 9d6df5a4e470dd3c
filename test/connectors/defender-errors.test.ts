// The defender connector's auth, rate-limit, failure mapping and hostile-input refusals, against the fake MDE.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newActionId, sampleStep } from '../conformance/connector.js';
import { ConnectorError } from '../../src/errors.js';
import type { EnforcementStep } from '../../src/contracts/action.js';
import { DefenderOptions } from '../../connectors/defender/index.js';
import { FAKE_SECRET } from '../fakes/defender/server.js';
import { fakeAndConnector } from './defender-setup.js';

const code = (c: string, retryable: boolean) => (e: unknown) => {
  assert.ok(e instanceof ConnectorError, `ConnectorError expected, got ${String(e)}`);
  assert.equal(e.code, c);
  assert.equal(e.retryable, retryable);
  assert.ok(!e.message.includes(FAKE_SECRET), 'the secret never appears in a message');
  return true;
};

describe('defender: tokens', () => {
  it('caches the token, and refreshes it before it expires (no 401 on the way)', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.tokenTtlS = 1;
    fake.addMachine({ ip: '10.0.0.5' });
    const r = await connector.apply(sampleStep('quarantine-device', '10.0.0.5'));
    assert.equal(fake.tokenCalls().length, 1, 'one token for several calls');
    await new Promise((res) => setTimeout(res, 1100)); // the fake's token has now expired
    assert.equal(await connector.verify(r), true);
    assert.equal(fake.tokenCalls().length, 2);
    assert.equal(fake.apiCalls().filter((c) => c.status === 401).length, 0, 'refreshed before expiry, not after a 401');
    const form = new URLSearchParams(fake.tokenCalls()[0]?.body);
    assert.equal(form.get('grant_type'), 'client_credentials');
    assert.equal(form.get('scope'), 'https://api.securitycenter.microsoft.com/.default');
  });

  it('a revoked token: one re-auth, then the call succeeds', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5' });
    const r = await connector.apply(sampleStep('quarantine-device', '10.0.0.5'));
    fake.revokeTokens();
    assert.equal(await connector.verify(r), true);
    assert.equal(fake.tokenCalls().length, 2);
    assert.equal(fake.apiCalls().filter((c) => c.status === 401).length, 1);
  });

  it('401 again after re-auth → CONNECTOR_AUTH, not retryable, exactly one re-auth', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5' });
    fake.rejectAllTokens = true;
    await assert.rejects(connector.apply(sampleStep('quarantine-device', '10.0.0.5')), code('CONNECTOR_AUTH', false));
    assert.equal(fake.tokenCalls().length, 2);
    assert.equal(fake.apiCalls().length, 2);
  });

  it('a wrong client secret → CONNECTOR_AUTH (invalid_client), secret not in the message', async (t) => {
    const { fake, connector } = await fakeAndConnector({ clientSecret: `${FAKE_SECRET}-wrong` });
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5' });
    await assert.rejects(connector.apply(sampleStep('quarantine-device', '10.0.0.5')), (e: unknown) => {
      code('CONNECTOR_AUTH', false)(e);
      assert.match((e as Error).message, /invalid_client/);
      return true;
    });
    assert.equal(fake.apiCalls().length, 0);
  });
});

describe('defender: vendor failures', () => {
  it('429 → CONNECTOR_RATE_LIMITED with retryAt from Retry-After (seconds)', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5' });
    fake.faults.push({ path: /findbyip/, status: 429, retryAfter: '42', times: 1 });
    const before = Date.now();
    await assert.rejects(connector.apply(sampleStep('quarantine-device', '10.0.0.5')), (e: unknown) => {
      code('CONNECTOR_RATE_LIMITED', true)(e);
      const at = (e as ConnectorError).retryAt ?? 0;
      assert.ok(at >= before + 42_000 && at <= Date.now() + 42_000, `retryAt ${at} is 42 s ahead`);
      return true;
    });
  });

  it('500 on isolate → CONNECTOR_UNAVAILABLE, retryable; the retry isolates once', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5' });
    fake.faults.push({ path: /\/isolate$/, status: 500, times: 1 });
    const step = sampleStep('quarantine-device', '10.0.0.5');
    await assert.rejects(connector.apply(step), code('CONNECTOR_UNAVAILABLE', true));
    await connector.apply(step);
    assert.equal(fake.state.actions.length, 1);
  });

  it('a slow answer → CONNECTOR_TIMEOUT, retryable', async (t) => {
    const { fake, connector } = await fakeAndConnector({ timeoutMs: 200 });
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5' });
    fake.faults.push({ path: /findbyip/, delayMs: 1000, times: 1 });
    await assert.rejects(connector.apply(sampleStep('quarantine-device', '10.0.0.5')), code('CONNECTOR_TIMEOUT', true));
  });

  it('connection refused → CONNECTOR_UNAVAILABLE, retryable; healthcheck says not ok', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    await fake.stop();
    await assert.rejects(connector.apply(sampleStep('quarantine-device', '10.0.0.5')), code('CONNECTOR_UNAVAILABLE', true));
    assert.equal((await connector.healthcheck()).ok, false);
  });

  it('404 on isolate (machine offboarded meanwhile) → CONNECTOR_REJECTED, not retryable', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    const m = fake.addMachine({ ip: '10.0.0.5' });
    fake.onRequest = (method) => { if (method === 'POST') fake.state.machines = fake.state.machines.filter((x) => x.id !== m.id); };
    await assert.rejects(connector.apply(sampleStep('quarantine-device', '10.0.0.5')), code('CONNECTOR_REJECTED', false));
  });
});

describe('defender: hostile values never reach MDE', () => {
  const hostile = ['10.0.0.5;id', "10.0.0.5' or 1 eq 1 or 'x", '$(reboot)', '10.0.0.5\r\nX-Evil: 1', '10.0.0.5\u0000', '=name=x', 'a'.repeat(10_000), '10.0.0.٥', '\u202e10.0.0.5'];

  it('hostile ip, hostname or actionId in a hand-built step: refused before any request', async (t) => {
    const { fake, connector } = await fakeAndConnector({ indicators: true });
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5' });
    const good = sampleStep('quarantine-device', '10.0.0.5');
    const steps: EnforcementStep[] = [
      ...hostile.map((ip) => ({ ...good, device: { ip } })),
      ...hostile.map((hostname) => ({ ...good, device: { ip: '10.0.0.5', hostname } })),
      ...hostile.map((actionId) => ({ ...good, actionId })),
      ...hostile.map((ip): EnforcementStep => ({ actionId: good.actionId, action: 'block-endpoint', device: { ip: '10.0.0.5' }, expiresAt: null, params: { ip, protocol: 'tcp', scope: 'all' } })),
    ];
    for (const step of steps) {
      await assert.rejects(connector.apply(step), code('CONNECTOR_REJECTED', false), JSON.stringify(step).slice(0, 120));
    }
    assert.equal(fake.log.length, 0, 'not even a token request');
  });

  it('a tampered receipt (machine id with a path) is refused before any request', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    const base = { connector: 'mde', actionId: newActionId(), action: 'quarantine-device' as const, key: 'defender:x', status: 'enforced' as const, detail: '', expiresAt: null };
    for (const machineId of ['../indicators/1', `${'a'.repeat(40)}/unisolate`, 'x'.repeat(10_000)]) {
      await assert.rejects(connector.revert({ ...base, data: { machineId } }), code('CONNECTOR_REJECTED', false));
      await assert.rejects(connector.verify({ ...base, data: { machineId } }), code('CONNECTOR_REJECTED', false));
    }
    assert.equal(fake.log.length, 0);
  });

  it('options: secrets and URLs are validated; http only to loopback', () => {
    const ok = { tenantId: 'contoso.onmicrosoft.com', clientId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', clientSecret: 's' };
    assert.equal(DefenderOptions.safeParse(ok).success, true);
    assert.equal(DefenderOptions.parse(ok).baseUrl, 'https://api.securitycenter.microsoft.com');
    for (const bad of [{ baseUrl: 'http://api.securitycenter.microsoft.com' }, { loginUrl: 'https://user:pw@login.example' }, { tenantId: "x'/../" }, { clientId: 'not-a-guid' }, { extra: 1 }, { scope: 'https://x/.default\n' }]) {
      assert.equal(DefenderOptions.safeParse({ ...ok, ...bad }).success, false, JSON.stringify(bad));
    }
  });
});
