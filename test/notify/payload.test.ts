// Notification payloads without Redis: Slack shape and escaping, webhook body and signature, links, no secrets.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ActionRecord } from '../../src/contracts/action.js';
import { parseConfig } from '../../src/config.js';
import { createSourceAuth } from '../../src/ingest/webhook-auth.js';
import { buildJobs } from '../../src/notify/notifier.js';
import { deliver } from '../../src/notify/deliver.js';
import { slackPayload } from '../../src/notify/slack.js';
import { actionLink, targetId } from '../../src/notify/message.js';
import { startReceiver, type Receiver } from './receiver.js';

const SECRET = 'notify-secret-0123456789abcdef';
const SLACK_PATH_SECRET = 'T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';

const record = (over: Partial<ActionRecord> = {}): ActionRecord => ({
  id: 'a-abcdef0123', action: 'block-ssh-egress', params: { ports: [22] }, target: { ip: '10.1.2.3', hostname: 'web<!channel>01' },
  state: 'pending_approval', mode: 'approval', playbook: 'outlaw-ssh-spread', alertIds: ['x1'],
  reason: 'Compromise / SSH Beacon <https://evil.example|click>', ttlMs: 3_600_000, createdAt: '2026-01-01T00:00:00.000Z',
  connectors: [{ name: 'edge', type: 'iptables', status: 'pending', detail: '' }],
  history: [{ at: '2026-01-01T00:00:00.000Z', state: 'pending_approval', by: 'system', note: 'waiting for an operator' }],
  ...over,
});

const config = (over: Record<string, unknown> = {}) => parseConfig({
  listen: '127.0.0.1:9999',
  notify: [
    { type: 'slack', url: `http://127.0.0.1:1/services/${SLACK_PATH_SECRET}` },
    { type: 'webhook', url: 'http://127.0.0.1:1/hook', secret: SECRET },
  ],
  ...over,
});

describe('notification payloads', () => {
  const receivers: Receiver[] = [];
  after(async () => { for (const r of receivers) await r.close(); });

  it('links to the console at publicUrl, falling back to http://<listen>', () => {
    assert.equal(actionLink(config({ publicUrl: 'https://sheriff.corp.example/' }), 'a-abcdef0123'), 'https://sheriff.corp.example/#/actions/a-abcdef0123');
    assert.equal(actionLink(config(), 'a-abcdef0123'), 'http://127.0.0.1:9999/#/actions/a-abcdef0123');
    const [job] = buildJobs(config({ publicUrl: 'https://sheriff.corp.example' }), 'approval_needed', record());
    assert.equal(job?.link, 'https://sheriff.corp.example/#/actions/a-abcdef0123');
  });

  it('one job per target, naming the target by id; no URL, secret or unknown extra in any job', () => {
    const c = config();
    const jobs = buildJobs(c, 'kill_switch', null, { by: 'alice', reason: 'drill', reverted: 3, token: 'leak-me-0123456789' });
    assert.deepEqual(jobs.map((j) => j.target), c.notify.map(targetId));
    const text = JSON.stringify(jobs);
    for (const secret of [SECRET, SLACK_PATH_SECRET, 'leak-me-0123456789', '127.0.0.1:1']) assert.ok(!text.includes(secret), `job leaks ${secret}`);
    assert.equal(jobs[0]?.details.reverted, 3);
    assert.match(jobs[0]?.text ?? '', /Kill switch pulled by alice: drill\. 3 action/);
  });

  it('a headline for every event', () => {
    const c = config();
    const cases: Array<[Parameters<typeof buildJobs>[1], ActionRecord | null, Record<string, unknown>, RegExp]> = [
      ['approval_needed', record(), {}, /^Approval needed: block-ssh-egress on 10\.1\.2\.3/],
      ['enforced', record({ state: 'active', expiresAt: '2026-01-01T02:00:00.000Z' }), {}, /^Enforced: .* until 2026-01-01T02:00:00\.000Z/],
      ['failed', record({ state: 'failed', history: [{ at: 'x', state: 'failed', by: 'system', note: 'edge: unreachable' }] }), {}, /^Failed: .*edge: unreachable/],
      ['expired', record({ state: 'expired' }), {}, /^Expired: /],
      ['reverted', record({ state: 'reverted', history: [{ at: 'x', state: 'reverted', by: 'bob', note: 'false positive' }] }), {}, /^Reverted: .* by bob: false positive/],
      ['mode', null, { from: 'passive', to: 'active', by: 'admin' }, /^Mode changed from passive to active by admin/],
    ];
    for (const [event, r, extra, re] of cases) assert.match(buildJobs(c, event, r, extra)[0]?.text ?? '', re, event);
  });

  it('Slack: text + blocks with fields and a console button; alert-derived text cannot mention or link', () => {
    const [job] = buildJobs(config({ publicUrl: 'https://sheriff.corp.example' }), 'approval_needed', record());
    assert.ok(job);
    const p = slackPayload(job);
    assert.equal(typeof p.text, 'string');
    assert.ok(p.text.includes('Approval needed'));
    const all = JSON.stringify(p);
    assert.ok(!all.includes('<!channel>'), 'a hostname must not ping the channel');
    assert.ok(!all.includes('<https://evil.example'), 'a reason must not become a link');
    assert.ok(all.includes('&lt;!channel&gt;'));
    assert.equal(p.blocks[0]?.type, 'section');
    const fields = (p.blocks[1] as { fields: Array<{ text: string }> }).fields.map((f) => f.text);
    assert.ok(fields.some((f) => f.startsWith('*Device*') && f.includes('10.1.2.3')));
    assert.ok(fields.some((f) => f.startsWith('*Playbook*') && f.includes('outlaw-ssh-spread')));
    const button = (p.blocks.find((b) => b.type === 'actions') as { elements: Array<{ url: string }> }).elements[0];
    assert.equal(button?.url, 'https://sheriff.corp.example/#/actions/a-abcdef0123');
  });

  it('webhook: signed body verifies with the ingest code path; a changed body or a wrong secret does not', async () => {
    const rx = await startReceiver();
    receivers.push(rx);
    const c = config({ notify: [{ type: 'webhook', url: rx.url, secret: SECRET }] });
    const [job] = buildJobs(c, 'enforced', record({ state: 'active' }));
    assert.ok(job);
    const targets = new Map(c.notify.map((t) => [targetId(t), t]));
    assert.equal(await deliver(targets, job, 'd-1'), 200);
    const got = rx.received[0];
    assert.ok(got);
    assert.equal(got.headers['x-sheriff-event'], 'enforced');
    assert.equal(got.headers['x-sheriff-delivery'], 'd-1');
    assert.equal(got.json.event, 'enforced');
    assert.equal(got.json.action.id, 'a-abcdef0123');
    assert.equal(got.json.link, 'http://127.0.0.1:9999/#/actions/a-abcdef0123');
    const nowS = Math.floor(Date.now() / 1000);
    const verify = (secret: string, raw: Buffer) => createSourceAuth({ sources: { generic: { secret, allowUnauthenticated: false } } })
      .verify('generic', got.headers as Record<string, string>, raw, nowS);
    assert.equal(verify(SECRET, got.raw).ok, true);
    assert.equal(verify(SECRET, Buffer.concat([got.raw, Buffer.from(' ')])).ok, false);
    assert.equal(verify('another-secret-0123456789abcdef', got.raw).ok, false);
    assert.ok(!got.raw.toString().includes(SECRET));
  });

  it('webhook without a secret is sent unsigned; Slack posts its payload', async () => {
    const rx = await startReceiver();
    receivers.push(rx);
    const c = config({ notify: [{ type: 'webhook', url: rx.url }, { type: 'slack', url: rx.url.replace('/hook', '/slack') }] });
    const jobs = buildJobs(c, 'mode', null, { from: 'active', to: 'passive', by: 'admin' });
    const targets = new Map(c.notify.map((t) => [targetId(t), t]));
    for (const j of jobs) await deliver(targets, j, 'd-2');
    assert.equal(rx.received.length, 2);
    assert.equal(rx.received[0]?.headers['x-sheriff-signature'], undefined);
    assert.deepEqual(Object.keys(rx.received[1]?.json).sort(), ['blocks', 'text']);
    assert.equal(rx.received[1]?.json.blocks.find((b: { type: string }) => b.type === 'actions').elements[0].url, 'http://127.0.0.1:9999/#/actions');
  });

  it('a permanent refusal (404) is not worth retrying; 500 is', async () => {
    const rx = await startReceiver((n) => (n === 0 ? 404 : 500));
    receivers.push(rx);
    const c = config({ notify: [{ type: 'webhook', url: rx.url, secret: SECRET }] });
    const [job] = buildJobs(c, 'expired', record({ state: 'expired' }));
    assert.ok(job);
    const targets = new Map(c.notify.map((t) => [targetId(t), t]));
    await assert.rejects(deliver(targets, job, 'd-3'), (err: Error) => err.name === 'UnrecoverableError');
    await assert.rejects(deliver(targets, job, 'd-3'), (err: Error) => err.name === 'Error' && /500/.test(err.message));
  });
});
