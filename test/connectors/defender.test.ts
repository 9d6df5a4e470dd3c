// The defender connector against the fake MDE: conformance, lookup, isolation states, idempotency, preexisting isolation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectorConformance, newActionId, sampleStep } from '../conformance/connector.js';
import { ConnectorError, NotResponsibleError } from '../../src/errors.js';
import type { EnforcementStep } from '../../src/contracts/action.js';
import { fakeAndConnector } from './defender-setup.js';

connectorConformance('defender (quarantine only)', async () => {
  const { fake, connector } = await fakeAndConnector();
  fake.addMachine({ ip: '10.0.0.5' });
  return { connector, devices: ['10.0.0.5'], breakBackend: () => fake.stop(), cleanup: () => fake.stop() };
});

function quarantine(ip: string, hostname?: string, actionId = newActionId()): EnforcementStep {
  const step = sampleStep('quarantine-device', ip, actionId);
  return hostname ? { ...step, device: { ip, hostname } } : step;
}

const isolateCalls = (fake: { apiCalls: (m?: string, p?: RegExp) => unknown[] }) => fake.apiCalls('POST', /\/isolate$/).length;

describe('defender: host lookup', () => {
  it('an unknown IP is not this connector\'s device', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5' });
    await assert.rejects(connector.apply(quarantine('10.0.0.99')), NotResponsibleError);
    assert.equal(isolateCalls(fake), 0);
  });

  it('two machines holding the IP → CONNECTOR_AMBIGUOUS, nothing isolated', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5' });
    fake.addMachine({ ip: '10.0.0.5' });
    await assert.rejects(connector.apply(quarantine('10.0.0.5')), (e: unknown) => e instanceof ConnectorError && e.code === 'CONNECTOR_AMBIGUOUS' && !e.retryable);
    assert.equal(isolateCalls(fake), 0);
  });

  it('findbyip\'s ±15 min window is loose: only the machine holding the IP now is isolated', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.50', recentIps: ['10.0.0.5'] });
    const right = fake.addMachine({ ip: '10.0.0.5' });
    const r = await connector.apply(quarantine('10.0.0.5'));
    assert.equal(r.key, `defender:${right.id}`);
    assert.deepEqual(fake.apiCalls('POST', /\/isolate$/).map((c) => c.path), [`/api/machines/${right.id}/isolate`]);
  });

  it("IPv6: the vendor's long form of the address is an exact match for the device's canonical form", async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    // findbyip finds it (the fake matches the canonical text through recentIps); the machine reports the long form.
    const m = fake.addMachine({ ip: 'fd00:0000:0000:0000:0000:0000:0000:0005', recentIps: ['fd00::5'] });
    const r = await connector.apply(quarantine('fd00::5'));
    assert.equal(r.data.machineId, m.id);
  });

  it('the hostname disambiguates machines sharing an IP and is sent as an OData literal', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5', computerDnsName: 'web01.corp.example' });
    const db = fake.addMachine({ ip: '10.0.0.5', computerDnsName: 'db01.corp.example' });
    const r = await connector.apply(quarantine('10.0.0.5', 'DB01.corp.example'));
    assert.equal(r.data.machineId, db.id);
    assert.ok(fake.apiCalls('GET').some((c) => c.path === "/api/machines?$filter=computerDnsName eq 'db01.corp.example'"));
  });

  it('a hostname that is not the IP\'s machine → not responsible (never the other host)', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5', computerDnsName: 'web01.corp.example' });
    fake.addMachine({ ip: '10.0.0.7', computerDnsName: 'db01.corp.example' });
    await assert.rejects(connector.apply(quarantine('10.0.0.5', 'db01.corp.example')), NotResponsibleError);
    assert.equal(isolateCalls(fake), 0);
  });
});

describe('defender: isolation', () => {
  it('pending → receipt pending, verify false until Succeeded, allow list recorded as not applied', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.state.pendingReads = 2;
    fake.addMachine({ ip: '10.0.0.5' });
    const r = await connector.apply(quarantine('10.0.0.5'));
    assert.equal(r.status, 'pending');
    assert.equal(r.data.preexisting, false);
    assert.match(r.detail, /allow-listed CIDRs cannot be set per host.*198\.51\.100\.0\/24/);
    assert.equal(await connector.verify(r), false); // Pending
    assert.equal(await connector.verify(r), false); // InProgress
    assert.equal(await connector.verify(r), true); // Succeeded
  });

  it('a repeat while MDE is still pending: one isolate call, same key, still pending', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.state.pendingReads = 10;
    fake.addMachine({ ip: '10.0.0.5' });
    const step = quarantine('10.0.0.5');
    const r1 = await connector.apply(step);
    const r2 = await connector.apply(step);
    assert.equal(isolateCalls(fake), 1);
    assert.equal(r2.key, r1.key);
    assert.equal(r2.status, 'pending');
  });

  for (const mode of ['error', 'return-pending'] as const) {
    it(`a racing isolation by another worker (MDE duplicate answer: ${mode}) is adopted as success-pending`, async (t) => {
      const { fake, connector } = await fakeAndConnector();
      t.after(() => fake.stop());
      fake.state.pendingReads = 10;
      fake.duplicateMode = mode;
      const m = fake.addMachine({ ip: '10.0.0.5' });
      const step = quarantine('10.0.0.5');
      // Another sheriff worker's isolate lands between our state read and our POST.
      fake.onRequest = (method, path) => {
        if (method === 'POST' && path.endsWith('/isolate') && fake.state.actions.length === 0) fake.state.addAction(m, 'Isolate', `sheriff ${step.actionId}`, 'Full', 'other-worker');
      };
      const r = await connector.apply(step);
      assert.equal(r.status, 'pending');
      assert.equal(r.data.preexisting, false);
      assert.equal(fake.state.actions.length, 1, 'no second isolation was created');
      const posts = fake.apiCalls('POST', /\/isolate$/);
      assert.equal(posts.length, 1);
      assert.equal(posts[0]?.status, mode === 'error' ? 400 : 201);
      if (mode === 'error') assert.ok(fake.apiCalls('GET').some((c) => c.path === `/api/machineactions?$filter=machineId eq '${m.id}' and type eq 'Isolate'`));
    });
  }
});
