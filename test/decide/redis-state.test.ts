// RedisDecideState against the real Redis (own key prefix): sliding window, idempotent per event, keys expire.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RedisDecideState } from '../../src/decide/redis-state.js';
import { dropPrefix, testPrefix, testRedis } from '../helpers/redis.js';

const redis = testRedis();
const prefix = testPrefix('decide');
after(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('RedisDecideState', () => {
  const st = new RedisDecideState({ redis, prefix, deviceContained: async (ip) => ip === '10.0.0.9' });
  it('counts distinct events within the window, once per event id', async () => {
    const t = 1_800_000_000_000;
    assert.equal(await st.hit('k1', 60_000, t, 'e1'), 1);
    assert.equal(await st.hit('k1', 60_000, t + 1000, 'e1'), 1, 'redelivery does not count twice');
    assert.equal(await st.hit('k1', 60_000, t + 2000, 'e2'), 2);
    assert.equal(await st.hit('k1', 60_000, t + 60_500, 'e3'), 2, 'e1 slid out of the window');
    assert.equal(await st.hit('k2', 60_000, t, 'e1'), 1, 'keys are independent');
    const ttl = await redis.pttl(`${prefix}:decide:k1`);
    assert.ok(ttl > 0 && ttl <= 60_000, `expires with the window (pttl ${ttl})`);
  });
  it('asks the ledger callback whether a device is contained', async () => {
    assert.equal(await st.deviceContained('10.0.0.9'), true);
    assert.equal(await st.deviceContained('10.0.0.8'), false);
  });
});
