// The defender connector's revert/list rules: lift only sheriff's own isolation; list recovers key and actionId from MDE.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newActionId, sampleStep } from '../conformance/connector.js';
import { fakeAndConnector } from './defender-setup.js';

describe('defender: revert and list', () => {
  it('a host isolated before sheriff acted: no isolate call, preexisting, revert leaves it isolated', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    const m = fake.addMachine({ ip: '10.0.0.5' });
    fake.state.addAction(m, 'Isolate', 'isolated by the SOC during IR-4711', 'Full', 'analyst@corp.example');
    const r = await connector.apply(sampleStep('quarantine-device', '10.0.0.5'));
    assert.equal(r.data.preexisting, true);
    assert.equal(r.status, 'enforced');
    assert.equal(await connector.verify(r), true);
    await connector.revert(r);
    assert.equal(fake.apiCalls('POST').length, 0, 'neither isolate nor unisolate was called');
    assert.equal(await connector.verify(r), true);
    assert.deepEqual(await connector.list(), [], 'someone else\'s isolation is not listed as sheriff\'s');
  });

  it('a host released after an earlier isolation is isolated again', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    const m = fake.addMachine({ ip: '10.0.0.5' });
    fake.state.addAction(m, 'Isolate', 'old incident', 'Full', 'analyst');
    fake.state.addAction(m, 'Unisolate', 'old incident closed', 'Full', 'analyst');
    const r = await connector.apply(sampleStep('quarantine-device', '10.0.0.5'));
    assert.equal(r.data.preexisting, false);
    assert.equal(fake.apiCalls('POST', /\/isolate$/).length, 1);
    const body = JSON.parse(fake.apiCalls('POST', /\/isolate$/)[0]?.body ?? '{}') as Record<string, unknown>;
    assert.deepEqual(body, { Comment: `sheriff ${r.actionId}`, IsolationType: 'Full' });
  });

  it('lift: revert posts one unisolate with sheriff\'s comment; verify turns false', async (t) => {
    const { fake, connector } = await fakeAndConnector({ isolationType: 'Selective' });
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5' });
    const r = await connector.apply(sampleStep('quarantine-device', '10.0.0.5'));
    assert.equal(await connector.verify(r), true);
    const [listed] = await connector.list();
    assert.equal(listed?.status, 'partial', 'selective isolation leaks (Outlook, Teams, Skype stay online)');
    await connector.revert(r);
    await connector.revert(r);
    const unis = fake.apiCalls('POST', /\/unisolate$/);
    assert.equal(unis.length, 1);
    assert.deepEqual(JSON.parse(unis[0]?.body ?? '{}'), { Comment: `sheriff ${r.actionId}` });
    assert.equal(await connector.verify(r), false);
  });

  it('two sheriff actions on one host: the second adds no call; reverting it does not lift the first', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5' });
    const first = await connector.apply(sampleStep('quarantine-device', '10.0.0.5'));
    const second = await connector.apply(sampleStep('quarantine-device', '10.0.0.5'));
    assert.equal(second.key, first.key);
    assert.equal(second.data.containedBy, first.actionId);
    await connector.revert(second);
    assert.equal(fake.apiCalls('POST', /\/unisolate$/).length, 0);
    assert.equal(await connector.verify(first), true);
    await connector.revert(first);
    assert.equal(fake.apiCalls('POST', /\/unisolate$/).length, 1);
  });

  it('list recovers key, actionId and state from the machine actions (across pages), for sheriff\'s isolations only', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.pageSize = 1;
    fake.addMachine({ ip: '10.0.0.5' });
    fake.addMachine({ ip: '10.0.0.6' });
    const other = fake.addMachine({ ip: '10.0.0.7' });
    fake.state.addAction(other, 'Isolate', `sheriff ${newActionId()} (forged by hand)`, 'Full', 'analyst');
    const a = await connector.apply(sampleStep('quarantine-device', '10.0.0.5'));
    const b = await connector.apply(sampleStep('quarantine-device', '10.0.0.6'));
    await connector.revert(b);
    const listed = await connector.list();
    assert.deepEqual(listed.map((r) => [r.key, r.actionId, r.action, r.status]), [[a.key, a.actionId, 'quarantine-device', 'enforced']]);
    assert.ok(fake.apiCalls('GET', /\$skip=/).length > 0, 'followed @odata.nextLink');
  });

  it('a failed isolation is not enforced and is retried by the next apply', async (t) => {
    const { fake, connector } = await fakeAndConnector();
    t.after(() => fake.stop());
    fake.addMachine({ ip: '10.0.0.5' });
    const step = sampleStep('quarantine-device', '10.0.0.5');
    const r = await connector.apply(step);
    for (const a of fake.state.actions) a.final = 'Failed';
    assert.equal(await connector.verify(r), false);
    await connector.apply(step);
    assert.equal(fake.apiCalls('POST', /\/isolate$/).length, 2);
    assert.equal(await connector.verify(r), true);
  });
});
