// The audit chain: appends link by hash; an edit, a deletion, an insertion or a reordering is detected.
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { AuditLog, type AuditEntry } from '../../src/ledger/audit.js';
import { dropPrefix, testPrefix, testRedis } from '../helpers/redis.js';

describe('audit log', () => {
  let redis: Redis;
  let prefix: string;
  let audit: AuditLog;
  const conns: Redis[] = [];
  const dup = () => {
    const c = redis.duplicate();
    conns.push(c);
    return c;
  };
  before(() => { redis = testRedis(); });
  after(() => {
    for (const c of conns) c.disconnect();
    redis.disconnect();
  });
  beforeEach(async () => {
    prefix = testPrefix('audit');
    audit = new AuditLog(dup(), prefix);
    await audit.append([{ type: 'a', by: 'alice', data: { n: 1 } }, { type: 'b', by: 'bob', data: { n: 2 } }]);
    await audit.append([{ type: 'c', by: 'carol', actionId: 'a-123456789', data: { n: 3 } }]);
  });
  const key = () => `${prefix}:audit`;
  const entries = async () => (await redis.lrange(key(), 0, -1)).map((e) => JSON.parse(e) as AuditEntry);

  it('chains entries: each carries the previous hash', async () => {
    const e = await entries();
    assert.equal(e.length, 3);
    assert.deepEqual(e.map((x) => x.seq), [1, 2, 3]);
    assert.equal(e[1]?.prev, e[0]?.hash);
    assert.equal(e[2]?.prev, e[1]?.hash);
    assert.deepEqual(await audit.verify(), { ok: true, entries: 3, problems: [] });
    await dropPrefix(redis, prefix);
  });

  it('concurrent appends stay one linear chain', async () => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => audit.append([{ type: 'x', by: 'w', data: { i } }])));
    const other = new AuditLog(dup(), prefix); // a second process
    await Promise.all(Array.from({ length: 20 }, (_, i) => other.append([{ type: 'y', by: 'w2', data: { i } }])));
    const v = await audit.verify();
    assert.equal(v.ok, true, JSON.stringify(v.problems));
    assert.equal(v.entries, 73);
    await dropPrefix(redis, prefix);
  });

  it('detects an edited entry', async () => {
    const e = await entries();
    const edited = { ...e[1], by: 'mallory' };
    await redis.lset(key(), 1, JSON.stringify(edited));
    const v = await audit.verify();
    assert.equal(v.ok, false);
    assert.match(v.problems.map((p) => p.problem).join(), /edited/);
    await dropPrefix(redis, prefix);
  });

  it('detects a deleted entry in the middle and at the end', async () => {
    const e = await entries();
    await redis.lrem(key(), 1, JSON.stringify(e[1]));
    let v = await audit.verify();
    assert.equal(v.ok, false);
    assert.match(v.problems.map((p) => p.problem).join(), /removed|chain broken/);
    await dropPrefix(redis, prefix);
    audit = new AuditLog(dup(), prefix);
    await audit.append([{ type: 'a', by: 'x' }, { type: 'b', by: 'y' }]);
    await redis.rpop(key());
    v = await audit.verify();
    assert.equal(v.ok, false);
    assert.match(v.problems.map((p) => p.problem).join(), /removed from the end/);
    await dropPrefix(redis, prefix);
  });

  it('detects reordering', async () => {
    const e = await entries();
    await redis.lset(key(), 0, JSON.stringify(e[1]));
    await redis.lset(key(), 1, JSON.stringify(e[0]));
    const v = await audit.verify();
    assert.equal(v.ok, false);
    assert.match(v.problems.map((p) => p.problem).join(), /reordered|chain broken/);
    await dropPrefix(redis, prefix);
  });

  it('lists newest first with a cursor and filters', async () => {
    const page1 = await audit.list({ limit: 2 });
    assert.deepEqual(page1.items.map((x) => x.type), ['c', 'b']);
    assert.ok(page1.next);
    const page2 = await audit.list({ limit: 2, cursor: Number(page1.next) });
    assert.deepEqual(page2.items.map((x) => x.type), ['a']);
    assert.equal(page2.next, null);
    const filtered = await audit.list({ limit: 10, actionId: 'a-123456789' });
    assert.deepEqual(filtered.items.map((x) => x.type), ['c']);
    await dropPrefix(redis, prefix);
  });
});
