// Notifications from a whole sheriff: the right events reach Slack and the signed webhook; a dead receiver never delays enforcement.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSourceAuth } from '../../src/ingest/webhook-auth.js';
import { startTestSheriff, waitFor, type TestSheriff } from '../helpers/sheriff.js';
import { deadUrl, startReceiver, type Receiver } from './receiver.js';

const SECRET = 'notify-secret-0123456789abcdef';
const PUBLIC = 'https://sheriff.test.example';
const manual = (ip: string, extra: Record<string, unknown> = {}) => ({ action: 'block-ssh-egress', target: { ip }, reason: 'test', ...extra });

async function stateOf(t: TestSheriff, id: string, state: string) {
  return waitFor(async () => {
    const r = await t.api('viewer', 'GET', `/v1/actions/${id}`);
    return r.json.state === state ? r.json : null;
  }, `action ${id} to be ${state}`);
}

/** Webhook deliveries for one action (or for action-less events when id is null), in arrival order. */
const eventsFor = (rx: Receiver, id: string | null) => rx.received.filter((r) => (r.json.action?.id ?? null) === id).map((r) => r.json.event as string);

describe('notifications from a running sheriff', () => {
  let t: TestSheriff;
  let slack: Receiver;
  let hook: Receiver;
  before(async () => {
    slack = await startReceiver();
    hook = await startReceiver();
    t = await startTestSheriff({
      publicUrl: PUBLIC,
      connectors: { dry: { type: 'log', scope: ['10.0.0.0/8'] } },
      notify: [{ type: 'slack', url: slack.url }, { type: 'webhook', url: hook.url, secret: SECRET }],
    });
  });
  after(async () => {
    await slack.close();
    await hook.close();
    await t.close();
  });

  it('approval needed → enforced → reverted arrive at both targets with the console link and a valid signature', async () => {
    const a = await t.api('approver', 'POST', '/v1/actions', manual('10.2.0.1', { approval: 'required' }));
    assert.equal(a.json.state, 'pending_approval');
    await waitFor(async () => eventsFor(hook, a.json.id).includes('approval_needed'), 'approval_needed');
    await t.api('approver', 'POST', `/v1/actions/${a.json.id}/approve`, { reason: 'confirmed' });
    await stateOf(t, a.json.id, 'active');
    await waitFor(async () => eventsFor(hook, a.json.id).includes('enforced'), 'enforced');
    await t.api('approver', 'POST', `/v1/actions/${a.json.id}/revert`, { reason: 'false positive' });
    await waitFor(async () => eventsFor(hook, a.json.id).includes('reverted'), 'reverted');
    assert.deepEqual(eventsFor(hook, a.json.id), ['approval_needed', 'enforced', 'reverted']);

    const mine = hook.received.filter((r) => r.json.action?.id === a.json.id);
    const auth = createSourceAuth({ sources: { generic: { secret: SECRET, allowUnauthenticated: false } } });
    for (const r of mine) {
      assert.equal(auth.verify('generic', r.headers as Record<string, string>, r.raw, Math.floor(Date.now() / 1000)).ok, true, r.json.event);
      assert.equal(r.json.link, `${PUBLIC}/#/actions/${a.json.id}`);
      assert.equal(r.headers['x-sheriff-event'], r.json.event);
    }
    assert.equal(mine.at(-1)?.json.action.last.by, 'approver');
    assert.match(mine.at(-1)?.json.text, /false positive/);

    await waitFor(async () => slack.received.filter((r) => JSON.stringify(r.json).includes(a.json.id)).length >= 3, 'three Slack messages');
    const s = slack.received.find((r) => r.json.text.startsWith(':raising_hand:') && JSON.stringify(r.json).includes(a.json.id));
    assert.ok(s, 'the approval request reached Slack');
    assert.ok(Array.isArray(s.json.blocks));
    assert.equal(s.headers['x-sheriff-signature'], undefined, 'Slack is not signed');
  });

  it('an uncovered device fails and says so; a short TTL expires and says so', async () => {
    const f = await t.api('approver', 'POST', '/v1/actions', manual('192.168.77.1'));
    assert.equal(f.json.state, 'failed');
    await waitFor(async () => eventsFor(hook, f.json.id).includes('failed'), 'failed');
    const e = await t.api('approver', 'POST', '/v1/actions', manual('10.2.0.2', { ttl: '1s' }));
    await stateOf(t, e.json.id, 'expired');
    await waitFor(async () => eventsFor(hook, e.json.id).includes('expired'), 'expired');
    assert.deepEqual(eventsFor(hook, e.json.id), ['enforced', 'expired']);
  });

  it('mode changes and the kill switch are announced with who and why', async () => {
    const before = hook.received.length;
    assert.equal((await t.api('admin', 'PUT', '/v1/mode', { mode: 'passive', reason: 'maintenance' })).status, 200);
    assert.equal((await t.api('admin', 'PUT', '/v1/mode', { mode: 'active' })).status, 200);
    assert.equal((await t.api('admin', 'POST', '/v1/kill-switch', { reason: 'drill' })).status, 200);
    // deliveries run concurrently, so the three may reach the receiver in any order: wait for all of them
    const controller = () => hook.received.slice(before).filter((r) => r.json.action === null);
    await waitFor(async () => {
      const l = controller();
      return l.some((r) => r.json.event === 'kill_switch') && l.filter((r) => r.json.event === 'mode').length >= 2;
    }, 'both mode changes and the kill switch');
    const later = controller();
    const mode = later.filter((r) => r.json.event === 'mode').map((r) => r.json.details);
    const byFrom = (a: { from: string }, b: { from: string }) => a.from.localeCompare(b.from);
    assert.deepEqual(mode.slice(0, 2).sort(byFrom), [
      { from: 'active', to: 'passive', by: 'admin', reason: 'maintenance' },
      { from: 'passive', to: 'active', by: 'admin', reason: '' },
    ]);
    const kill = later.find((r) => r.json.event === 'kill_switch');
    assert.equal(kill?.json.details.by, 'admin');
    assert.equal(kill?.json.details.reason, 'drill');
    assert.equal(kill?.json.link, `${PUBLIC}/#/actions`);
    await t.api('admin', 'PUT', '/v1/mode', { mode: 'active' });
  });
});

describe('a dead notification receiver', () => {
  let t: TestSheriff;
  let hang: Receiver;
  before(async () => {
    hang = await startReceiver(() => 'hang');
    t = await startTestSheriff({
      connectors: { dry: { type: 'log' } },
      notify: [{ type: 'webhook', url: hang.url, secret: SECRET }, { type: 'slack', url: await deadUrl() }],
    });
  });
  after(async () => {
    await hang.close(); // first: the delivery worker's hanging request ends, so its close does not wait for the timeout
    await t.close();
  });

  it('does not delay enforcement: the action becomes active while the receiver still holds the first notification', async () => {
    const a = await t.api('approver', 'POST', '/v1/actions', manual('10.3.0.1', { approval: 'required' }));
    await waitFor(async () => hang.received.length >= 1, 'the approval notification to reach the hanging receiver');
    assert.equal((await t.api('approver', 'POST', `/v1/actions/${a.json.id}/approve`, { reason: 'go' })).status, 200);
    const active = await stateOf(t, a.json.id, 'active');
    assert.equal(active.connectors[0].status, 'enforced');
    // Causal, not a stopwatch: had enforcement waited on the delivery, that first request would have ended by now.
    assert.equal(hang.received[0]?.closed, false, 'the first notification is still in flight');
    const b = await t.api('approver', 'POST', '/v1/actions', manual('10.3.0.2'));
    await stateOf(t, b.json.id, 'active');
  });
});
