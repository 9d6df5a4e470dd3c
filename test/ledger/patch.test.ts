// Ledger hot-path primitives: compare-and-set patches, the live lookup with its record, device containment from indexes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { ActionRecord } from '../../src/contracts/action.js';
import { Ledger, liveKeyOf } from '../../src/ledger/store.js';
import { actionRecord } from '../helpers/ledger.js';
import { dropPrefix, testPrefix, testRedis } from '../helpers/redis.js';

const record = (ip: string, state: ActionRecord['state'] = 'active') => actionRecord(ip, { state });

describe('ledger patch and live lookups', () => {
  let redis: Redis;
  let conn: Redis;
  let prefix: string;
  let ledger: Ledger;
  before(() => {
    redis = testRedis();
    conn = redis.duplicate();
    prefix = testPrefix('ledger-patch');
    ledger = new Ledger(conn, prefix, { lanes: 2 });
  });
  after(async () => {
    await dropPrefix(redis, prefix);
    conn.disconnect();
    redis.disconnect();
  });

  it('concurrent patches of one record lose no write (each appends its own alert id)', async () => {
    const r = record('10.44.0.1');
    await ledger.create(r, { auto: false });
    const ids = Array.from({ length: 40 }, (_, i) => `al-${i}`);
    await Promise.all(ids.map((a) => ledger.patch(r.id, (x) => (x.alertIds.includes(a) ? null : { ...x, alertIds: [...x.alertIds, a] }))));
    const after = await ledger.mustGet(r.id);
    assert.deepEqual([...after.alertIds].sort(), [...ids].sort());
  });

  it('a stale starting point only costs a retry: the write is based on the stored record', async () => {
    const r = record('10.44.0.2');
    await ledger.create(r, { auto: false });
    const stale = await redis.get(`${prefix}:action:${r.id}`);
    assert.ok(stale);
    await ledger.patch(r.id, (x) => ({ ...x, alertIds: ['first'] }));
    const res = await ledger.patch(r.id, (x) => ({ ...x, alertIds: [...x.alertIds, 'second'] }), stale);
    assert.deepEqual(res.after.alertIds, ['first', 'second']);
    assert.deepEqual((await ledger.mustGet(r.id)).alertIds, ['first', 'second']);
  });

  it('refuses state changes (indexes would go stale) and missing records', async () => {
    const r = record('10.44.0.3');
    await ledger.create(r, { auto: false });
    await assert.rejects(ledger.patch(r.id, (x) => ({ ...x, state: 'reverting' })), /cannot change the state/);
    assert.equal((await ledger.mustGet(r.id)).state, 'active');
    await assert.rejects(ledger.patch('a-missing000000', (x) => x), /no action/);
  });

  it('a WATCH update running across a patch still applies on top of it', async () => {
    const r = record('10.44.0.4');
    await ledger.create(r, { auto: false });
    await Promise.all([
      ledger.update(r.id, (x) => ({ ...x, state: 'reverting' })),
      ledger.patch(r.id, (x) => ({ ...x, alertIds: [...x.alertIds, 'p'] })).catch(() => undefined),
    ]);
    const after = await ledger.mustGet(r.id);
    assert.equal(after.state, 'reverting');
  });

  it('findLiveRecord returns the live id with the stored JSON; deviceHasLive follows the state indexes', async () => {
    const r = record('10.44.0.5', 'approved');
    await ledger.create(r, { auto: true });
    const found = await ledger.findLiveRecord(liveKeyOf(r));
    assert.equal(found?.id, r.id);
    assert.equal((JSON.parse(found?.raw ?? '{}') as ActionRecord).id, r.id);
    assert.equal(await ledger.findLiveRecord(liveKeyOf({ ...r, target: { ip: '10.44.9.9' } })), null);
    assert.equal(await ledger.deviceHasLive('10.44.0.5'), false, 'approved is not yet containing');
    await ledger.update(r.id, (x) => ({ ...x, state: 'enforcing' }));
    assert.equal(await ledger.deviceHasLive('10.44.0.5'), true);
    await ledger.update(r.id, (x) => ({ ...x, state: 'active' }));
    assert.equal(await ledger.deviceHasLive('10.44.0.5'), true);
    await ledger.update(r.id, (x) => ({ ...x, state: 'reverting' }));
    assert.equal(await ledger.deviceHasLive('10.44.0.5'), false);
    assert.equal(await ledger.deviceHasLive('10.44.7.7'), false);
  });
});
