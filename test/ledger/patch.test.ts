// Ledger hot-path primitives: compare-and-set patches, the live lookup with its record, device containment from indexes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ActionRecord } from '../../src/contracts/action.js';
import { liveKeyOf } from '../../src/ledger/store.js';
import { actionRecord, useLedger } from '../helpers/ledger.js';

const record = (ip: string, state: ActionRecord['state'] = 'active') => actionRecord(ip, { state });

describe('ledger patch and live lookups', () => {
  const t = useLedger('ledger-patch', { lanes: 2 });

  it('concurrent patches of one record lose no write (each appends its own alert id)', async () => {
    const r = record('10.44.0.1');
    await t.ledger.create(r, { auto: false });
    const ids = Array.from({ length: 40 }, (_, i) => `al-${i}`);
    await Promise.all(ids.map((a) => t.ledger.patch(r.id, (x) => (x.alertIds.includes(a) ? null : { ...x, alertIds: [...x.alertIds, a] }))));
    const after = await t.ledger.mustGet(r.id);
    assert.deepEqual([...after.alertIds].sort(), [...ids].sort());
  });

  it('a stale starting point only costs a retry: the write is based on the stored record', async () => {
    const r = record('10.44.0.2');
    await t.ledger.create(r, { auto: false });
    const stale = await t.redis.get(`${t.prefix}:action:${r.id}`);
    assert.ok(stale);
    await t.ledger.patch(r.id, (x) => ({ ...x, alertIds: ['first'] }));
    const res = await t.ledger.patch(r.id, (x) => ({ ...x, alertIds: [...x.alertIds, 'second'] }), stale);
    assert.deepEqual(res.after.alertIds, ['first', 'second']);
    assert.deepEqual((await t.ledger.mustGet(r.id)).alertIds, ['first', 'second']);
  });

  it('refuses state changes (indexes would go stale) and missing records', async () => {
    const r = record('10.44.0.3');
    await t.ledger.create(r, { auto: false });
    await assert.rejects(t.ledger.patch(r.id, (x) => ({ ...x, state: 'reverting' })), /cannot change the state/);
    assert.equal((await t.ledger.mustGet(r.id)).state, 'active');
    await assert.rejects(t.ledger.patch('a-missing000000', (x) => x), /no action/);
  });

  it('a WATCH update running across a patch still applies on top of it', async () => {
    const r = record('10.44.0.4');
    await t.ledger.create(r, { auto: false });
    await Promise.all([
      t.ledger.update(r.id, (x) => ({ ...x, state: 'reverting' })),
      t.ledger.patch(r.id, (x) => ({ ...x, alertIds: [...x.alertIds, 'p'] })).catch(() => undefined),
    ]);
    const after = await t.ledger.mustGet(r.id);
    assert.equal(after.state, 'reverting');
  });

  it('findLiveRecord returns the live id with the stored JSON; deviceHasLive follows the state indexes', async () => {
    const r = record('10.44.0.5', 'approved');
    await t.ledger.create(r, { auto: true });
    const found = await t.ledger.findLiveRecord(liveKeyOf(r));
    assert.equal(found?.id, r.id);
    assert.equal((JSON.parse(found?.raw ?? '{}') as ActionRecord).id, r.id);
    assert.equal(await t.ledger.findLiveRecord(liveKeyOf({ ...r, target: { ip: '10.44.9.9' } })), null);
    assert.equal(await t.ledger.deviceHasLive('10.44.0.5'), false, 'approved is not yet containing');
    await t.ledger.update(r.id, (x) => ({ ...x, state: 'enforcing' }));
    assert.equal(await t.ledger.deviceHasLive('10.44.0.5'), true);
    await t.ledger.update(r.id, (x) => ({ ...x, state: 'active' }));
    assert.equal(await t.ledger.deviceHasLive('10.44.0.5'), true);
    await t.ledger.update(r.id, (x) => ({ ...x, state: 'reverting' }));
    assert.equal(await t.ledger.deviceHasLive('10.44.0.5'), false);
    assert.equal(await t.ledger.deviceHasLive('10.44.7.7'), false);
  });
});
