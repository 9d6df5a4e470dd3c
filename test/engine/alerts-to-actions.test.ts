// Alerts in through the webhook, decisions out: shipped playbooks, escalation, passive mode, approval expiry, dedupe.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SOURCE_TOKEN, startTestSheriff, waitFor, type TestSheriff } from '../helpers/sheriff.js';

let pbid = Math.floor(Math.random() * 1e9);
function breach(ip: string, modelName: string, score: number, dest?: { ip: string; port: number }) {
  pbid += 1;
  return { modelName, score: score * 100, pbid, breachTime: Date.now(), deviceIp: ip, ...(dest ? { destIP: dest.ip, destPort: dest.port } : {}) };
}

async function post(t: TestSheriff, source: string, body: unknown) {
  const res = await t.sheriff.app!.inject({
    method: 'POST', url: `/v1/alerts/${source}`, payload: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SOURCE_TOKEN}` },
  });
  return { status: res.statusCode, json: JSON.parse(res.body) };
}

async function actionsFor(t: TestSheriff, ip: string) {
  return (await t.api('viewer', 'GET', `/v1/actions?device=${ip}`)).json.items as Array<{ id: string; action: string; state: string; reason: string; playbook: string; alertIds: string[] }>;
}

async function waitActions(t: TestSheriff, ip: string, pred: (a: Awaited<ReturnType<typeof actionsFor>>) => boolean, what: string) {
  return waitFor(async () => {
    const a = await actionsFor(t, ip);
    return pred(a) ? a : null;
  }, what);
}

describe('alerts become actions through the shipped playbooks', () => {
  let t: TestSheriff;
  before(async () => { t = await startTestSheriff({ approval: { ttl: '2s' } }); });
  after(async () => { await t.close(); });

  it('an SSH beacon blocks SSH egress automatically, with the reason recorded', async () => {
    const r = await post(t, 'darktrace', breach('10.4.0.1', 'Compromise / SSH Beacon', 0.7));
    assert.equal(r.status, 202, JSON.stringify(r.json));
    const acts = await waitActions(t, '10.4.0.1', (a) => a.some((x) => x.state === 'active'), 'block-ssh-egress active');
    const a = acts.find((x) => x.action === 'block-ssh-egress');
    assert.ok(a, JSON.stringify(acts));
    assert.equal(a.playbook, 'outlaw-ssh-spread');
    assert.match(a.reason, /outlaw-ssh-spread/);
    assert.equal(a.alertIds.length, 1);
  });

  it('the old `::` separator matches the same playbook; a re-delivered alert is a duplicate and changes nothing', async () => {
    const alert = breach('10.4.0.2', 'Compromise::High Frequency SSH Beacon', 0.7);
    assert.equal((await post(t, 'darktrace', alert)).status, 202);
    await waitActions(t, '10.4.0.2', (a) => a.some((x) => x.action === 'block-ssh-egress' && x.state === 'active'), 'active');
    const again = await post(t, 'darktrace', alert);
    assert.equal(again.status, 202);
    assert.equal(JSON.stringify(again.json).includes('duplicate'), true, JSON.stringify(again.json));
    await new Promise((r) => setTimeout(r, 300));
    const acts = await actionsFor(t, '10.4.0.2');
    assert.equal(acts.length, 1);
    assert.equal(acts[0]?.alertIds.length, 1);
    const audit = await t.api('viewer', 'GET', '/v1/audit?type=alert.accepted&limit=1000');
    const forDevice = audit.json.items.filter((e: { data: { device: string } }) => e.data.device === '10.4.0.2');
    assert.equal(forDevice.length, 1, 'processed exactly once');
  });

  it('mining with a peer blocks that endpoint; a repeat offender escalates to a quarantine that waits for approval', async () => {
    const ip = '10.4.0.3';
    await post(t, 'darktrace', breach(ip, 'Compromise / High Priority Crypto Currency Mining', 0.85, { ip: '203.0.113.50', port: 3333 }));
    const acts = await waitActions(t, ip, (a) => a.some((x) => x.action === 'block-endpoint' && x.state === 'active'), 'endpoint blocked');
    const be = await t.api('viewer', 'GET', `/v1/actions/${acts.find((x) => x.action === 'block-endpoint')!.id}`);
    assert.equal(be.json.params.ip, '203.0.113.50/32');
    assert.equal(be.json.params.port, 3333);
    await post(t, 'darktrace', breach(ip, 'Compromise / SSH Beacon', 0.7));
    await post(t, 'darktrace', breach(ip, 'Anomalous Connection / Multiple Connections to New External TCP Port', 0.6));
    const all = await waitActions(t, ip, (a) => a.some((x) => x.action === 'quarantine-device'), 'quarantine requested');
    const q = all.find((x) => x.action === 'quarantine-device')!;
    assert.equal(q.state, 'pending_approval', 'quarantine is never automatic');
    assert.ok(all.some((x) => x.action === 'rate-limit-new-ports' && ['approved', 'enforcing', 'active'].includes(x.state)));
    // Nobody answers: the approval request expires without enforcement.
    await waitFor(async () => (await t.api('viewer', 'GET', `/v1/actions/${q.id}`)).json.state === 'expired', 'approval expiry', 10_000);
  });

  it('an Alertmanager alert labelled sheriff_action asks for exactly that action', async () => {
    const body = {
      version: '4', status: 'firing', receiver: 'sheriff', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am.example', groupKey: 'k', truncatedAlerts: 0,
      alerts: [{ status: 'firing', labels: { alertname: 'SSHBruteforce', device_ip: '10.4.0.4', severity: 'critical', sheriff_action: 'block-ssh-egress' }, annotations: {}, startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://p', fingerprint: 'ab12cd34ef56ab78' }],
    };
    assert.equal((await post(t, 'alertmanager', body)).status, 202);
    const acts = await waitActions(t, '10.4.0.4', (a) => a.length > 0, 'alertmanager action');
    assert.deepEqual(acts.map((a) => a.action), ['block-ssh-egress']);
    assert.equal(acts[0]?.playbook, 'alertmanager-block-ssh-egress');
  });
});

describe('passive mode', () => {
  it('decides and records simulated actions, enforcing nothing', async () => {
    const t = await startTestSheriff({ mode: 'passive' });
    try {
      await post(t, 'darktrace', breach('10.5.0.1', 'Compromise / SSH Beacon', 0.7));
      const acts = await waitActions(t, '10.5.0.1', (a) => a.length > 0, 'simulated action');
      assert.equal(acts[0]?.state, 'simulated');
      const full = await t.api('viewer', 'GET', `/v1/actions/${acts[0]!.id}`);
      assert.equal(full.json.connectors[0].status, 'simulated');
      assert.equal(full.json.connectors[0].receipt, undefined, 'nothing was applied');
    } finally {
      await t.close();
    }
  });
});

describe('alert jobs and the dedupe window', () => {
  it('an accepted alert\'s job is kept for less than the dedupe window, so a re-delivery after it is queued again', async () => {
    const t = await startTestSheriff({ ingest: { dedupeWindow: '10m' } });
    try {
      const r = await post(t, 'darktrace', breach('10.5.0.9', 'Compromise / SSH Beacon', 0.7));
      const id = r.json.ids[0] as string;
      const job = await waitFor(async () => t.sheriff.queues.alerts.getJob(id), 'the alert job');
      const opts = job.opts as { removeOnFail?: { age: number }; removeOnComplete?: { age: number } };
      assert.ok(opts.removeOnFail && opts.removeOnFail.age * 1000 < 600_000, JSON.stringify(opts));
      assert.ok(opts.removeOnComplete && opts.removeOnComplete.age * 1000 < 600_000, JSON.stringify(opts));
    } finally {
      await t.close();
    }
  });

  it('a decided alert stays a duplicate after BullMQ has removed its job', async () => {
    const t = await startTestSheriff();
    try {
      const alert = breach('10.5.0.10', 'Compromise / SSH Beacon', 0.7);
      const id = (await post(t, 'darktrace', alert)).json.ids[0] as string;
      await waitActions(t, '10.5.0.10', (a) => a.some((x) => x.state === 'active'), 'the action');
      const job = await waitFor(async () => {
        const j = await t.sheriff.queues.alerts.getJob(id);
        return j && (await j.isCompleted()) ? j : null;
      }, 'the alert job to complete');
      await job.remove(); // what retention does within the hour
      const again = await post(t, 'darktrace', alert);
      assert.equal(again.status, 202);
      assert.deepEqual(again.json.accepted, [{ index: 0, id, duplicate: true }]);
      assert.equal(await t.sheriff.queues.alerts.getJob(id), undefined, 'not queued again');
    } finally {
      await t.close();
    }
  });
});
