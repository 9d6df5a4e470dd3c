// GET /v1/alerts and /v1/alerts/:id: stored alerts with raw, per-device listing, since, limits and cursors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NormalisedAlert } from '../../src/contracts/alert.js';
import { ingestApp, VIEWER, type TestApp } from './helpers.js';

const alert = (n: number, ip: string, receivedAt: string): NormalisedAlert => ({
  id: `generic-page-${n}`, source: 'generic', name: `Page / ${n}`, score: 0.5, detectedAt: receivedAt, receivedAt,
  device: { ip, tags: [] }, raw: { n },
});

describe('alerts API', () => {
  let t: TestApp;
  const auth = { authorization: `Bearer ${VIEWER}` };
  let now = 0;
  before(async () => {
    t = await ingestApp();
    now = Date.now();
    // Five alerts share one millisecond so the cursor must break ties; two are on another device.
    const alerts = [
      ...[0, 1, 2, 3, 4].map((n) => alert(n, '10.50.0.1', new Date(now - 1000).toISOString())),
      ...[5, 6].map((n) => alert(n, '10.50.0.1', new Date(now - 500 + n).toISOString())),
      ...[7, 8].map((n) => alert(n, '10.50.0.2', new Date(now - 400 + n).toISOString())),
    ];
    assert.deepEqual(await t.store.commitMany([{ alerts }]), [alerts.map(() => true)]);
  });
  after(async () => { await t.close(); });

  it('pages through one device newest first, without repeats or gaps', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/alerts?device=10.50.0.1&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await t.app.inject({ url, headers: auth });
      assert.equal(r.statusCode, 200, r.body);
      const body = r.json() as { items: NormalisedAlert[]; next: string | null };
      assert.ok(body.items.length <= 2);
      seen.push(...body.items.map((a) => a.id));
      cursor = body.next;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(seen.length, 7);
    assert.equal(new Set(seen).size, 7);
    assert.deepEqual(seen.slice(0, 2), ['generic-page-6', 'generic-page-5']);
  });

  it('lists every device without a filter, honours since and refuses bad queries', async () => {
    const all = (await t.app.inject({ url: '/v1/alerts?limit=1000', headers: auth })).json() as { items: NormalisedAlert[]; next: null };
    assert.equal(all.items.length, 9);
    assert.equal(all.next, null);
    // An absolute time: a relative one would depend on how long the test took to get here.
    const recent = (await t.app.inject({ url: `/v1/alerts?since=${now - 800}`, headers: auth })).json() as { items: NormalisedAlert[] };
    const relative = await t.app.inject({ url: '/v1/alerts?since=1h', headers: auth });
    assert.equal((relative.json() as { items: unknown[] }).items.length, 9, 'a duration counts back from now');
    assert.deepEqual(recent.items.map((a) => a.id).sort(), ['generic-page-5', 'generic-page-6', 'generic-page-7', 'generic-page-8']);
    for (const q of ['limit=0', 'limit=1001', 'device=127.0.0.1', 'device=10.0.0.0/8', 'since=yesterday', 'cursor=%0a', 'other=1']) {
      assert.equal((await t.app.inject({ url: `/v1/alerts?${q}`, headers: auth })).statusCode, 400, q);
    }
  });

  it('GET /v1/alerts/:id returns the alert with raw, 404 for unknown ids', async () => {
    const r = await t.app.inject({ url: '/v1/alerts/generic-page-3', headers: auth });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json().raw, { n: 3 });
    assert.equal((await t.app.inject({ url: '/v1/alerts/generic-nope', headers: auth })).statusCode, 404);
    assert.equal((await t.app.inject({ url: '/v1/alerts/..%2f..%2fetc', headers: auth })).statusCode, 404);
  });
});
