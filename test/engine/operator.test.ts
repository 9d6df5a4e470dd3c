// The decide → enforce → expire engine through the operator API, with the log connector on the real Redis.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSheriff, waitFor, type TestSheriff } from '../helpers/sheriff.js';
import { testRedis } from '../helpers/redis.js';

const manual = (ip: string, extra: Record<string, unknown> = {}) => ({
  action: 'block-ssh-egress', target: { ip }, reason: 'test', ...extra,
});

async function stateOf(t: TestSheriff, id: string, state: string, timeoutMs = 10_000) {
  return waitFor(async () => {
    const r = await t.api('viewer', 'GET', `/v1/actions/${id}`);
    return r.json.state === state ? r.json : null;
  }, `action ${id} to be ${state}`, timeoutMs);
}

async function logEntries(t: TestSheriff): Promise<string[]> {
  const r = testRedis();
  const keys = await r.hkeys(`${t.prefix}:log-connector:dry`);
  r.disconnect();
  return keys;
}

describe('engine through the operator API', () => {
  let t: TestSheriff;
  before(async () => {
    t = await startTestSheriff({ protected: { cidrs: ['10.9.9.9/32'], hostnames: [] }, connectors: { dry: { type: 'log', scope: ['10.0.0.0/8'] } } });
  });
  after(async () => { await t.close(); });

  it('a manual auto action is enforced on the connector, then reverted with a reason', async () => {
    const created = await t.api('approver', 'POST', '/v1/actions', manual('10.1.0.1'));
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const active = await stateOf(t, created.json.id, 'active');
    assert.equal(active.connectors[0].name, 'dry');
    assert.equal(active.connectors[0].status, 'enforced');
    assert.ok(active.expiresAt);
    assert.ok((await logEntries(t)).some((k) => k.includes(created.json.id)));
    const noReason = await t.api('approver', 'POST', `/v1/actions/${created.json.id}/revert`, {});
    assert.equal(noReason.status, 400);
    const rev = await t.api('approver', 'POST', `/v1/actions/${created.json.id}/revert`, { reason: 'false positive' });
    assert.equal(rev.status, 200);
    const done = await stateOf(t, created.json.id, 'reverted');
    assert.equal(done.connectors[0].status, 'reverted');
    assert.ok(!(await logEntries(t)).some((k) => k.includes(created.json.id)));
    assert.deepEqual(done.history.map((h: { state: string }) => h.state), ['approved', 'enforcing', 'active', 'reverting', 'reverted']);
    const again = await t.api('approver', 'POST', `/v1/actions/${created.json.id}/revert`, { reason: 'twice' });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.details.state, 'reverted');
  });

  it('approval required: pending until approved, then enforced; deny ends it; illegal transitions are 409', async () => {
    const a = await t.api('approver', 'POST', '/v1/actions', manual('10.1.0.2', { approval: 'required' }));
    assert.equal(a.json.state, 'pending_approval');
    assert.equal((await t.api('approver', 'POST', `/v1/actions/${a.json.id}/approve`, { reason: 'confirmed' })).status, 200);
    await stateOf(t, a.json.id, 'active');
    const b = await t.api('approver', 'POST', '/v1/actions', manual('10.1.0.3', { approval: 'required' }));
    assert.equal((await t.api('approver', 'POST', `/v1/actions/${b.json.id}/deny`, { reason: 'benign' })).json.state, 'denied');
    const approveDenied = await t.api('approver', 'POST', `/v1/actions/${b.json.id}/approve`, { reason: 'oops' });
    assert.equal(approveDenied.status, 409);
    assert.equal(approveDenied.json.error.details.state, 'denied');
  });

  it('the same action on the same device extends the live one instead of creating another', async () => {
    const a = await t.api('approver', 'POST', '/v1/actions', manual('10.1.0.4', { ttl: '10m' }));
    await stateOf(t, a.json.id, 'active');
    const b = await t.api('approver', 'POST', '/v1/actions', manual('10.1.0.4', { ttl: '2h' }));
    assert.equal(b.status, 200);
    assert.equal(b.json.id, a.json.id);
    assert.equal(b.json.decision, 'extend');
    assert.ok(Date.parse(b.json.expiresAt) > Date.now() + 3_000_000);
    const list = await t.api('viewer', 'GET', '/v1/actions?device=10.1.0.4');
    assert.equal(list.json.items.length, 1);
  });

  it('extend moves the expiry; a short TTL expires and lifts the containment', async () => {
    const a = await t.api('approver', 'POST', '/v1/actions', manual('10.1.0.5', { ttl: '2s' }));
    await stateOf(t, a.json.id, 'active');
    const ext = await t.api('approver', 'POST', `/v1/actions/${a.json.id}/extend`, { ttl: '4s' });
    assert.equal(ext.status, 200);
    const expiresAt = Date.parse(ext.json.expiresAt);
    assert.ok(expiresAt > Date.now() + 2500);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await t.api('viewer', 'GET', `/v1/actions/${a.json.id}`)).json.state, 'active', 'not expired at the old time');
    const done = await stateOf(t, a.json.id, 'expired', 10_000);
    assert.ok(Date.now() >= expiresAt);
    assert.equal(done.connectors[0].status, 'reverted');
  });

  it('protected assets are refused; a device no connector covers fails with the reason', async () => {
    const p = await t.api('approver', 'POST', '/v1/actions', manual('10.9.9.9'));
    assert.equal(p.status, 409);
    assert.match(p.json.error.message, /protected/);
    const u = await t.api('approver', 'POST', '/v1/actions', manual('192.168.50.5'));
    assert.equal(u.status, 201);
    assert.equal(u.json.state, 'failed');
    assert.match(u.json.reason, /no configured connector/);
  });

  it('refuses bad bodies with 400 and clear messages', async () => {
    for (const body of [
      { action: 'nuke-everything', target: { ip: '10.1.0.9' }, reason: 'x' },
      { action: 'block-ssh-egress', target: { ip: '127.0.0.1' }, reason: 'x' },
      { action: 'block-ssh-egress', target: { ip: '10.1.0.9; rm -rf /' }, reason: 'x' },
      { action: 'block-ssh-egress', target: { ip: '10.1.0.9' }, reason: 'x', params: { ports: [0] } },
      { action: 'block-ssh-egress', target: { ip: '10.1.0.9' }, reason: 'x', surprise: true },
      { action: 'block-endpoint', target: { ip: '10.1.0.9' }, reason: 'no ip' },
    ]) {
      const r = await t.api('approver', 'POST', '/v1/actions', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(typeof r.json.error.message, 'string');
    }
  });

  it('passive mode records simulated actions and touches nothing; the kill switch reverts everything', async () => {
    const live = await t.api('approver', 'POST', '/v1/actions', manual('10.1.0.6'));
    await stateOf(t, live.json.id, 'active');
    assert.equal((await t.api('approver', 'PUT', '/v1/mode', { mode: 'passive' })).status, 403);
    const kill = await t.api('admin', 'POST', '/v1/kill-switch', { reason: 'drill' });
    assert.equal(kill.status, 200);
    assert.ok(kill.json.reverted >= 1);
    await stateOf(t, live.json.id, 'reverted');
    assert.equal((await t.api('viewer', 'GET', '/v1/mode')).json.mode, 'passive');
    const sim = await t.api('approver', 'POST', '/v1/actions', manual('10.1.0.7'));
    assert.equal(sim.json.state, 'simulated');
    assert.equal(sim.json.connectors[0].status, 'simulated');
    assert.match(sim.json.connectors[0].detail, /would apply/);
    assert.ok(!(await logEntries(t)).some((k) => k.includes(sim.json.id)));
    assert.equal((await t.api('admin', 'PUT', '/v1/mode', { mode: 'active', reason: 'drill over' })).json.mode, 'active');
    const audit = await t.api('viewer', 'GET', '/v1/audit?type=kill-switch');
    assert.equal(audit.json.items.length, 1);
    assert.equal(audit.json.items[0].by, 'admin');
    const verify = await t.api('viewer', 'GET', '/v1/audit/verify');
    assert.equal(verify.json.ok, true);
  });

  it('lists with filters and a cursor', async () => {
    const page = await t.api('viewer', 'GET', '/v1/actions?limit=2');
    assert.equal(page.json.items.length, 2);
    assert.ok(page.json.next);
    const next = await t.api('viewer', 'GET', `/v1/actions?limit=2&cursor=${encodeURIComponent(page.json.next)}`);
    const ids = new Set([...page.json.items, ...next.json.items].map((a: { id: string }) => a.id));
    assert.equal(ids.size, page.json.items.length + next.json.items.length, 'pages do not overlap');
    const reverted = await t.api('viewer', 'GET', '/v1/actions?state=reverted');
    assert.ok(reverted.json.items.every((a: { state: string }) => a.state === 'reverted'));
  });
});

describe('expiry survives a restart of the workers', () => {
  it('an action whose sheriff stopped still expires when another sheriff runs', async () => {
    const first = await startTestSheriff();
    const a = await first.api('approver', 'POST', '/v1/actions', manual('10.2.0.1', { ttl: '3s' }));
    await stateOf(first, a.json.id, 'active');
    await first.close({ keepData: true });
    const second = await startTestSheriff({}, { prefix: first.prefix });
    try {
      const done = await stateOf(second, a.json.id, 'expired', 15_000);
      assert.equal(done.connectors[0].status, 'reverted');
    } finally {
      await second.close();
    }
  });
});
