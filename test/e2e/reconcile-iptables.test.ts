// Core reconcile against the kernel: sheriff on a lab gateway restores what someone flushed, removes what nobody owns,
// and an action whose sheriff process is gone still lifts on time through the kernel timeout.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ReconcileReport } from '../../src/enforce/reconcile.js';
import { startLabSheriff, type LabSheriff } from '../helpers/lab-sheriff.js';
import { labUnavailableReason } from '../helpers/netns.js';

const unavailable = labUnavailableReason();
const skip = unavailable ? `skipped: the reconcile e2e needs a network lab: ${unavailable}` : false;
const MARGIN_S = 1; // kernel timeout = remaining TTL + this margin (short, so the expiry test is quick)

describe('reconcile against the kernel (iptables on a lab gateway)', { skip }, () => {
  let s: LabSheriff;
  const manual = async (action: string, ip: string, extra: Record<string, unknown> = {}) => {
    const r = await s.t.api('approver', 'POST', '/v1/actions', { action, target: { ip }, reason: 'e2e reconcile', ...extra });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return s.stateOf(r.json.id, 'active');
  };
  const reconcile = async (): Promise<ReconcileReport> => {
    const reports = await s.t.sheriff.reconciler.run('e2e');
    assert.ok(reports, 'reconcile ran (not locked out)');
    const edge = reports.find((r) => r.connector === 'edge');
    assert.ok(edge);
    assert.deepEqual(edge.errors, []);
    return edge;
  };
  const audit = async (type: string, actionId: string) =>
    (await s.t.api('viewer', 'GET', `/v1/audit?type=${type}&action=${actionId}&limit=100`)).json.items as Array<{ type: string; by: string; data: Record<string, unknown> }>;

  before(async () => {
    s = await startLabSheriff({ connector: { timeoutMargin: MARGIN_S }, listen: false });
  });
  after(async () => { await s?.close(); });

  it('a kernel set flushed by hand is restored by reconcile (traffic blocked again, audited)', async () => {
    const a = await manual('block-ssh-egress', s.lab.dev.dev1, { ttl: '1h' });
    assert.equal(await s.reach('dev1', s.lab.ext.a, 22), 'refused');
    await s.gw('ipset', ['flush', `${s.ipsetPrefix}-ssh4`]);
    assert.equal(await s.reach('dev1', s.lab.ext.a, 22), 'connected', 'the flush lifted the block');

    const report = await reconcile();
    assert.deepEqual(report.restored, [`block-ssh-egress|${s.lab.dev.dev1}|${a.id}`]);
    assert.deepEqual(report.removed, []);
    for (const port of [22, 2222, 2022]) assert.equal(await s.reach('dev1', s.lab.ext.a, port), 'refused', `:${port} blocked again`);
    assert.equal(await s.reach('dev2', s.lab.ext.a, 22), 'connected', 'the neighbour is untouched');
    const restored = await audit('reconcile.restored', a.id);
    assert.equal(restored.length, 1);
    assert.equal(restored[0]?.by, 'e2e');
    const after = (await s.t.api('viewer', 'GET', `/v1/actions/${a.id}`)).json;
    assert.equal(after.state, 'active');
    assert.match(after.connectors[0].detail, /restored by reconcile/);
    // The restored entries carry a kernel timeout near the action's expiry, not "forever".
    const line = (await s.gw('ipset', ['list', `${s.ipsetPrefix}-ssh4`])).split('\n').find((l) => l.startsWith(`${s.lab.dev.dev1},tcp:22 `));
    const timeout = Number(/timeout (\d+)/.exec(line ?? '')?.[1]);
    assert.ok(timeout > 0 && timeout <= (Date.parse(after.expiresAt) - Date.now()) / 1000 + MARGIN_S + 1, `kernel timeout ${timeout} s`);

    const again = await reconcile();
    assert.deepEqual([again.restored, again.removed], [[], []], 'a second run finds nothing to do');
  });

  it('an entry added by hand for an unknown action id is removed by reconcile; the ledger\'s own entries stay', async () => {
    const stranger = 'a-nobodyknows0001';
    await s.gw('ipset', ['add', `${s.ipsetPrefix}-ssh4`, `${s.lab.dev.dev2},tcp:22`, 'timeout', '600', 'comment', stranger]);
    assert.equal(await s.reach('dev2', s.lab.ext.a, 22), 'refused', 'the hand-made entry blocks');

    const report = await reconcile();
    assert.deepEqual(report.removed, [`block-ssh-egress|${s.lab.dev.dev2}|${stranger}`]);
    assert.deepEqual(report.restored, []);
    assert.equal(await s.reach('dev2', s.lab.ext.a, 22), 'connected', 'the unknown entry is gone');
    assert.equal(await s.reach('dev1', s.lab.ext.a, 22), 'refused', 'the ledger\'s block stays');
    const removed = await audit('reconcile.removed', stranger);
    assert.equal(removed.length, 1);
    assert.match(String(removed[0]?.data.why), /unknown to the ledger/);
  });

  it('two endpoint blocks on one device: flushing the set restores both, each under its own action', async () => {
    const one = await manual('block-endpoint', s.lab.dev.dev2, { params: { ip: s.lab.ext.c, port: 443 } });
    const two = await manual('block-endpoint', s.lab.dev.dev2, { params: { ip: s.lab.ext.d, port: 443 } });
    assert.notEqual(one.id, two.id);
    await s.gw('ipset', ['flush', `${s.ipsetPrefix}-bedp4`]);
    assert.equal(await s.reach('dev2', s.lab.ext.c, 443), 'connected');
    const report = await reconcile();
    assert.deepEqual(report.restored.sort(), [`block-endpoint|${s.lab.dev.dev2}|${one.id}`, `block-endpoint|${s.lab.dev.dev2}|${two.id}`].sort());
    for (const ip of [s.lab.ext.c, s.lab.ext.d]) assert.equal(await s.reach('dev2', ip, 443), 'refused', `dev2 → ${ip}:443`);
    const r = await s.t.api('approver', 'POST', `/v1/actions/${one.id}/revert`, { reason: 'done' });
    assert.equal(r.status, 200);
    await s.stateOf(one.id, 'reverted');
    assert.equal(await s.reach('dev2', s.lab.ext.c, 443), 'connected', 'the reverted endpoint');
    assert.equal(await s.reach('dev2', s.lab.ext.d, 443), 'refused', 'the other endpoint stays blocked');
    assert.deepEqual((await reconcile()).restored, [], 'reconcile does not bring back the reverted one');
  });

  it('overlapping SSH blocks on one device (ports 22 and 22/2222/2022): reverting the narrower one keeps port 22 blocked', async () => {
    const wide = (await s.t.api('viewer', 'GET', `/v1/actions?device=${s.lab.dev.dev1}&action=block-ssh-egress&state=active`)).json.items;
    assert.equal(wide.length, 1, 'the block from the first test is still active');
    const narrow = await manual('block-ssh-egress', s.lab.dev.dev1, { params: { ports: [22] }, ttl: '30m' });
    assert.notEqual(narrow.id, wide[0].id, 'different params: a second action');
    const r = await s.t.api('approver', 'POST', `/v1/actions/${narrow.id}/revert`, { reason: 'narrow one not needed' });
    assert.equal(r.status, 200);
    await s.stateOf(narrow.id, 'reverted');
    for (const port of [22, 2222, 2022]) assert.equal(await s.reach('dev1', s.lab.ext.a, port), 'refused', `:${port} still blocked by the wider action`);
    assert.equal((await audit('connector.reapply', wide[0].id)).length, 1, 'the re-apply is audited on the wider action');
    const again = await reconcile();
    assert.deepEqual([again.restored, again.removed], [[], []], 'kernel and ledger agree');
  });

  it('the same endpoint blocked for every device by two actions: reverting one keeps the block', async () => {
    const params = { ip: s.lab.ext.b, port: 80, scope: 'all' };
    const one = await manual('block-endpoint', s.lab.dev.dev1, { params });
    const two = await manual('block-endpoint', s.lab.dev.dev2, { params });
    assert.notEqual(one.id, two.id);
    const r = await s.t.api('approver', 'POST', `/v1/actions/${one.id}/revert`, { reason: 'one is enough' });
    assert.equal(r.status, 200);
    await s.stateOf(one.id, 'reverted');
    for (const node of ['dev1', 'dev2'] as const) assert.equal(await s.reach(node, s.lab.ext.b, 80), 'refused', `${node} → b:80`);
    const r2 = await s.t.api('approver', 'POST', `/v1/actions/${two.id}/revert`, { reason: 'done' });
    assert.equal(r2.status, 200);
    await s.stateOf(two.id, 'reverted');
    assert.equal(await s.reach('dev1', s.lab.ext.b, 80), 'connected', 'lifted with the last one');
  });

  it('the kill switch lifts overlapping actions too (no sibling re-apply outlives them)', async () => {
    await manual('block-ssh-egress', s.lab.dev.dev2, { params: { ports: [22] } });
    await manual('block-ssh-egress', s.lab.dev.dev2);
    const live = (await s.t.api('viewer', 'GET', '/v1/actions?state=active')).json.items;
    assert.ok(live.length >= 4, `several live actions (${live.length})`);
    const kill = await s.t.api('admin', 'POST', '/v1/kill-switch', { reason: 'e2e drill' });
    assert.equal(kill.status, 200, JSON.stringify(kill.json));
    for (const a of live) await s.stateOf(a.id, 'reverted');
    for (const node of ['dev1', 'dev2'] as const) for (const port of [22, 2222]) assert.equal(await s.reach(node, s.lab.ext.a, port), 'connected', `${node} → :${port}`);
    assert.equal(await s.reach('dev2', s.lab.ext.d, 443), 'connected');
    const saved = await s.gw('ipset', ['save']);
    assert.deepEqual(saved.split('\n').filter((l) => l.startsWith(`add ${s.ipsetPrefix}-`) && l.includes('comment "a-')), [], 'no sheriff entry left in the kernel');
    assert.equal((await s.t.api('admin', 'PUT', '/v1/mode', { mode: 'active', reason: 'drill over' })).status, 200);
  });

  it('with sheriff stopped, the kernel timeout still lifts an action on time', async () => {
    await manual('block-ssh-egress', s.lab.dev.dev1, { ttl: '1h' });
    const a = await manual('block-ssh-egress', s.lab.dev.dev2, { ttl: '3s' });
    const expiresAt = Date.parse(a.expiresAt);
    await s.stopSheriff(); // no expiry job, no revert: only the kernel is left
    assert.ok(Date.now() < expiresAt, 'stopped before the expiry');
    assert.equal(await s.reach('dev2', s.lab.ext.a, 22, 500), 'refused', 'stopping sheriff does not tear the block down');
    // ipset counts whole seconds: the entry lives ceil(remaining) + margin seconds from its apply.
    const latest = expiresAt + (MARGIN_S + 1) * 1000 + 1500;
    let liftedAt: number | null = null;
    while (Date.now() < latest + 2000) {
      if (await s.reach('dev2', s.lab.ext.a, 22, 300) === 'connected') { liftedAt = Date.now(); break; }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(liftedAt !== null, 'the kernel lifted the block');
    assert.ok(liftedAt >= expiresAt - 250, `not before the action's expiry (lifted ${liftedAt - expiresAt} ms after it)`);
    assert.ok(liftedAt <= latest, `lifted ${liftedAt - expiresAt} ms after the expiry (margin ${MARGIN_S} s)`);
    assert.equal(await s.reach('dev1', s.lab.ext.a, 22), 'refused', 'the 1 h block of the other device is still in the kernel');
  });
});
