// A RouterOS backend down for a while: actions back off, the breaker opens and closes, every action is enforced once.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRouterOsServer } from '../fakes/routeros/server.js';
import { startTestSheriff, waitFor, type TestSheriff } from '../helpers/sheriff.js';
import { registry } from '../../src/metrics.js';

// The outage length is a parameter: SHERIFF_OUTAGE_MS (default 30 s; the file then runs in about 35 s).
const OUTAGE_MS = Number(process.env.SHERIFF_OUTAGE_MS ?? 30_000);
// Open-breaker fast-fails wait for the cool-down without spending attempts (10 times at most, src/queue/workers.ts),
// so cool-down × 10 is the outage an action rides out before the exponential back-off starts spending attempts.
const COOL_DOWN_MS = Math.max(2000, Math.ceil(OUTAGE_MS / 4));
const DEVICES = 6;
const ADD = '/ip/firewall/address-list/add';

async function breakerGauge(connector: string): Promise<number | undefined> {
  const m = await registry.getSingleMetric('sheriff_connector_breaker_open')?.get();
  return m?.values.find((v) => v.labels.connector === connector)?.value;
}

async function auditTypes(t: TestSheriff): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  const r = await t.api('viewer', 'GET', '/v1/audit?limit=1000');
  return r.json.items;
}

describe(`connector outage (${OUTAGE_MS / 1000} s) with retries and the circuit breaker`, () => {
  let fake: FakeRouterOsServer;
  let t: TestSheriff;
  let port: number;
  before(async () => {
    fake = new FakeRouterOsServer();
    port = await fake.listen(0, '127.0.0.1');
    t = await startTestSheriff({
      connectors: { mikrotik: { type: 'routeros', host: '127.0.0.1', port, user: 'sheriff', password: 'sheriff', timeout: '2s', scope: ['192.168.88.0/24'] } },
      limits: { maxNewPerHour: 100, maxActive: 100, breaker: { failures: 3, coolDown: `${COOL_DOWN_MS}ms` } },
    });
    await t.sheriff.registry.get('mikrotik')?.connector.start();
  });
  after(async () => {
    await t?.close();
    await fake?.close();
  });

  it('retries with back-off during the outage, opens and closes the breaker, and enforces every action exactly once', async () => {
    const ids: string[] = [];
    const ip = (i: number) => `192.168.88.${10 + i}`;
    // Up: the first action goes straight through.
    const first = await t.api('approver', 'POST', '/v1/actions', { action: 'block-ssh-egress', target: { ip: ip(0) }, reason: 'outage test' });
    assert.equal(first.status, 201, JSON.stringify(first.json));
    ids.push(first.json.id);
    await waitFor(async () => (await t.api('viewer', 'GET', `/v1/actions/${first.json.id}`)).json.state === 'active', 'first action active');

    // Down: the router stops answering (connections refused); new actions are accepted and wait.
    await fake.close();
    const downAt = Date.now();
    for (let i = 1; i < DEVICES; i++) {
      const r = await t.api('approver', 'POST', '/v1/actions', { action: 'block-ssh-egress', target: { ip: ip(i) }, reason: 'outage test' });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      ids.push(r.json.id);
    }
    await waitFor(async () => (await auditTypes(t)).some((e) => e.type === 'connector.breaker.open' && e.data.connector === 'mikrotik'), 'breaker open audit entry', 15_000);
    assert.equal(await breakerGauge('mikrotik'), 1);
    for (const id of ids.slice(1)) {
      const r = await t.api('viewer', 'GET', `/v1/actions/${id}`);
      assert.ok(['enforcing', 'approved'].includes(r.json.state), `${id} waits during the outage (state ${r.json.state})`);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - downAt))));
    for (const id of ids.slice(1)) assert.notEqual((await t.api('viewer', 'GET', `/v1/actions/${id}`)).json.state, 'failed', 'no action gives up during the outage');

    // Back up on the same port with its state intact: every waiting action is enforced.
    await fake.listen(port, '127.0.0.1');
    const upAt = Date.now();
    await waitFor(async () => {
      const states = await Promise.all(ids.map(async (id) => (await t.api('viewer', 'GET', `/v1/actions/${id}`)).json.state));
      return states.every((s) => s === 'active');
    }, 'every action active after the outage', 60_000);
    const recoverySeconds = (Date.now() - upAt) / 1000;
    await waitFor(async () => (await auditTypes(t)).some((e) => e.type === 'connector.breaker.close' && e.data.connector === 'mikrotik'), 'breaker close audit entry');
    assert.equal(await breakerGauge('mikrotik'), 0);

    // None twice: exactly one address-list add per device reached the router.
    for (let i = 0; i < DEVICES; i++) {
      const adds = fake.commands(ADD).filter((words) => words.includes(`=address=${ip(i)}`));
      assert.equal(adds.length, 1, `${ip(i)}: ${adds.length} adds`);
    }
    const entries = [...fake.router.entries.values()].filter((e) => e.address.startsWith('192.168.88.'));
    assert.equal(new Set(entries.map((e) => e.address)).size, DEVICES);
    assert.equal(entries.length, DEVICES);
    const verify = await t.api('viewer', 'GET', '/v1/audit/verify');
    assert.equal(verify.json.ok, true);
    console.log(`# outage ${OUTAGE_MS / 1000} s: ${DEVICES} actions, all active ${recoverySeconds.toFixed(1)} s after the router came back`);
  });
});
