// POST /v1/alerts/:source end to end on the shared Redis (private prefix): auth, answers, batches, dedupe, queue.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signBody } from '../../src/ingest/webhook-auth.js';
import { fixture, ingestApp, jobCount, SECRET, TOKEN, type TestApp } from './helpers.js';

const json = { 'content-type': 'application/json' };
const signed = (body: string, t?: number, secret = SECRET) => ({ ...json, 'x-sheriff-signature': signBody(secret, body, t) });
const generic = (id: string, ip = '10.20.30.40') => ({ id, name: 'Test / Generic', score: 0.7, device: { ip } });

describe('POST /v1/alerts/:source', () => {
  let t: TestApp;
  before(async () => { t = await ingestApp(); });
  after(async () => { await t.close(); });

  const post = (source: string, body: string, headers: Record<string, string>) =>
    t.app.inject({ method: 'POST', url: `/v1/alerts/${source}`, payload: body, headers });

  describe('auth', () => {
    const body = fixture('darktrace-modelbreach.json');
    it('accepts a good signature, queues the alert and stores it with its raw payload', async () => {
      const r = await post('darktrace', body, signed(body));
      assert.equal(r.statusCode, 202, r.body);
      const out = r.json() as { ids: string[]; accepted: { id: string; duplicate: boolean }[] };
      assert.equal(out.accepted[0]?.duplicate, false);
      const id = out.ids[0] as string;
      const job = await t.queue.getJob(id);
      assert.equal(job?.data.alert.device.ip, '10.0.0.1');
      assert.equal(job?.data.alert.raw, undefined);
      const stored = await t.store.get(id);
      assert.deepEqual(stored?.raw, JSON.parse(body));
    });
    it('refuses a wrong secret, a stale timestamp, a malformed header and a replay', async () => {
      const b = body.replace('"commentCount": 0', '"commentCount": 1');
      assert.equal((await post('darktrace', b, signed(b, undefined, 'another-secret-0123456789'))).statusCode, 401);
      assert.equal((await post('darktrace', b, signed(b, Math.floor(Date.now() / 1000) - 301))).statusCode, 401);
      assert.equal((await post('darktrace', b, { ...json, 'x-sheriff-signature': 'v1=abc' })).statusCode, 401);
      const h = signed(b);
      assert.equal((await post('darktrace', b, h)).statusCode, 202);
      const replay = await post('darktrace', b, h);
      assert.equal(replay.statusCode, 401);
      assert.match(replay.json().error.message, /replay/);
    });
    it('refuses a signature over another body and a missing credential', async () => {
      assert.equal((await post('darktrace', body, { ...json, 'x-sheriff-signature': signBody(SECRET, `${body} `) })).statusCode, 401);
      const none = await post('darktrace', body, json);
      assert.equal(none.statusCode, 401);
      assert.equal(none.json().error.code, 'UNAUTHORIZED');
    });
    it('bearer: good token accepted, bad token refused', async () => {
      const eve = fixture('suricata-eve-alert.json');
      assert.equal((await post('suricata', eve, { ...json, authorization: `Bearer ${TOKEN}` })).statusCode, 202);
      assert.equal((await post('suricata', eve, { ...json, authorization: 'Bearer not-the-token-0123456789' })).statusCode, 401);
    });
    it('a source with either credential accepts either', async () => {
      const b1 = JSON.stringify(generic('either-1'));
      const b2 = JSON.stringify(generic('either-2'));
      assert.equal((await post('generic', b1, signed(b1))).statusCode, 202);
      assert.equal((await post('generic', b2, { ...json, authorization: `Bearer ${TOKEN}` })).statusCode, 202);
    });
    it('an unconfigured source is refused; allowUnauthenticated lets it in', async () => {
      const other = await ingestApp({ sources: { darktrace: { secret: SECRET } } });
      try {
        const r = await other.app.inject({ method: 'POST', url: '/v1/alerts/zeek', payload: fixture('zeek-notice.ndjson'), headers: json });
        assert.equal(r.statusCode, 401);
      } finally { await other.close(); }
      const r = await post('zeek', fixture('zeek-notice.ndjson'), json);
      assert.equal(r.statusCode, 202, r.body);
    });
  });

  describe('answers', () => {
    const open = JSON.stringify(generic('answers-1'));
    it('404 for an unknown source', async () => {
      const r = await post('snort', open, json);
      assert.equal(r.statusCode, 404);
      assert.equal(r.json().error.code, 'NOT_FOUND');
    });
    it('400 with the position for invalid JSON', async () => {
      const r = await post('zeek', '{"ts": 1, "note": }', json);
      assert.equal(r.statusCode, 400);
      assert.equal(r.json().error.code, 'INVALID_JSON');
      assert.equal(r.json().error.details.position, 18);
      const nd = await post('zeek', '{"note":"a","src":"10.0.0.2"}\n{"note": x}\n', { 'content-type': 'application/x-ndjson' });
      assert.equal(nd.statusCode, 400);
      assert.deepEqual([nd.json().error.details.line, nd.json().error.details.column], [2, 10]);
    });
    it('413 over the body limit', async () => {
      const big = JSON.stringify({ ...generic('big'), pad: 'x'.repeat(1024 * 1024) });
      const r = await post('generic', big, { ...json, authorization: `Bearer ${TOKEN}` });
      assert.equal(r.statusCode, 413);
      assert.equal(r.json().error.code, 'PAYLOAD_TOO_LARGE');
    });
    it('415 for other content types', async () => {
      for (const ct of ['text/plain', 'application/x-www-form-urlencoded']) {
        const r = await post('zeek', fixture('zeek-notice.ndjson'), { 'content-type': ct });
        assert.equal(r.statusCode, 415, ct);
        assert.equal(r.json().error.code, 'UNSUPPORTED_MEDIA_TYPE');
      }
      assert.equal((await t.app.inject({ method: 'POST', url: '/v1/alerts/zeek', payload: '{"note":"A::B","src":"10.0.0.7"}' })).statusCode, 415);
      const charset = await post('zeek', '{"note":"A::Charset","src":"10.0.0.7"}', { 'content-type': 'application/json; charset=utf-8' });
      assert.equal(charset.statusCode, 202);
    });
    it('400 with zod issues for a schema problem', async () => {
      const r = await post('zeek', JSON.stringify({ ts: 1, src: '10.0.0.2' }), json);
      assert.equal(r.statusCode, 400);
      assert.equal(r.json().error.code, 'VALIDATION');
      assert.ok(r.json().error.details.refused[0].issues.some((i: { path: string[] }) => i.path[0] === 'note'));
    });
    it('400 for every unusable device address', async () => {
      for (const ip of ['127.0.0.1', '224.0.0.9', '255.255.255.255', '0.0.0.0', '10.0.0.0/24', '::', 'ff02::1', '']) {
        const r = await post('zeek', JSON.stringify({ ts: 1, note: 'X::Y', src: ip }), json);
        assert.equal(r.statusCode, 400, ip);
        assert.match(r.json().error.message, /no usable device/, ip);
      }
    });
  });

  describe('batches', () => {
    it('a mixed array lists accepted and refused items with reasons', async () => {
      const body = JSON.stringify([generic('mix-1'), generic('mix-2', '127.0.0.1'), { nope: true }, generic('mix-3', 'fd00::3')]);
      const r = await post('generic', body, signed(body));
      assert.equal(r.statusCode, 202);
      const out = r.json() as { accepted: { index: number }[]; refused: { index: number; reason: string }[] };
      assert.deepEqual(out.accepted.map((a) => a.index), [0, 3]);
      assert.deepEqual(out.refused.map((x) => x.index), [1, 2]);
      assert.match(out.refused[0]?.reason ?? '', /loopback/);
    });
    it('NDJSON bodies are split by line', async () => {
      const body = [generic('nd-1'), generic('nd-2')].map((g) => JSON.stringify(g)).join('\n');
      const r = await post('generic', body, { 'content-type': 'application/x-ndjson', authorization: `Bearer ${TOKEN}` });
      assert.equal(r.statusCode, 202);
      assert.equal(r.json().ids.length, 2);
    });
    it('duplicates are marked and queued once, across posts and inside one post', async () => {
      const before = await jobCount(t.queue);
      const body = JSON.stringify([generic('dup-1'), generic('dup-1')]);
      const first = await post('generic', body, signed(body));
      assert.deepEqual(first.json().accepted.map((a: { duplicate: boolean }) => a.duplicate), [false, true]);
      const again = await post('generic', body, { ...json, authorization: `Bearer ${TOKEN}` });
      assert.equal(again.statusCode, 202);
      assert.deepEqual(again.json().accepted.map((a: { duplicate: boolean }) => a.duplicate), [true, true]);
      assert.equal(await jobCount(t.queue), before + 1);
    });
    it('a BullMQ job id only dedupes while the job exists; the dedupe key outlives a decided job', async () => {
      const body = JSON.stringify(generic('dup-removed'));
      const r = await post('generic', body, signed(body));
      const id = r.json().ids[0] as string;
      await t.store.markDecided(id); // what the alerts worker does once it has decided
      await (await t.queue.getJob(id))?.remove();
      const again = await post('generic', body, { ...json, authorization: `Bearer ${TOKEN}` });
      assert.equal(again.json().accepted[0].duplicate, true);
      assert.equal(await t.queue.getJob(id), undefined);
    });
  });

  describe('alerts API, metrics, readyz', () => {
    it('GET /v1/alerts/:id and the device list need a viewer token', async () => {
      const body = JSON.stringify(generic('api-1', '10.77.0.1'));
      const id = (await post('generic', body, signed(body))).json().ids[0] as string;
      assert.equal((await t.app.inject({ url: `/v1/alerts/${id}` })).statusCode, 401);
      assert.equal((await t.app.inject({ url: `/v1/alerts/${id}`, headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 401);
    });
    it('metrics count outcomes and readyz reports Redis and workers', async () => {
      const m = await t.app.inject({ url: '/metrics' });
      assert.equal(m.statusCode, 200);
      assert.match(m.body, /sheriff_alerts_ingested_total\{source="generic",outcome="duplicate"\} \d+/);
      assert.match(m.body, /sheriff_alert_queue_depth \d+/);
      assert.match(m.body, /sheriff_ingest_duration_seconds_bucket/);
      assert.equal((await t.app.inject({ url: '/readyz' })).statusCode, 200);
    });
  });
});
