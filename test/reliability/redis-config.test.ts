// The `redis` setting: a URL or a Sentinel group, parsed strictly and turned into ioredis options.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../src/config.js';
import { describeTarget, redisOptions } from '../../src/redis.js';

describe('redis config: URL or Sentinel', () => {
  it('a URL stays a URL and adds no Sentinel options', () => {
    const c = parseConfig({ redis: 'redis://:pw@10.0.0.5:6380/2' });
    assert.equal(c.redis, 'redis://:pw@10.0.0.5:6380/2');
    assert.equal(redisOptions(c.redis).sentinels, undefined);
    assert.equal(describeTarget(c.redis), 'redis://***@10.0.0.5:6380/2');
  });

  it('a Sentinel group becomes ioredis sentinels + name, with default ports and secrets from the environment', () => {
    process.env.SHERIFF_TEST_REDIS_PW = 'from-env-secret';
    try {
      const c = parseConfig({
        redis: { sentinels: [{ host: 'sentinel-0.redis' }, { host: 'sentinel-1.redis', port: 26380 }], name: 'sheriff', password: '${env:SHERIFF_TEST_REDIS_PW}', db: 1 },
      });
      const o = redisOptions(c.redis, { maxRetriesPerRequest: null });
      assert.deepEqual(o.sentinels, [{ host: 'sentinel-0.redis', port: 26379 }, { host: 'sentinel-1.redis', port: 26380 }]);
      assert.equal(o.name, 'sheriff');
      assert.equal(o.password, 'from-env-secret');
      assert.equal(o.db, 1);
      assert.equal(o.maxRetriesPerRequest, null, 'the caller\'s options are kept');
      assert.equal(typeof o.sentinelRetryStrategy, 'function');
      assert.equal(o.enableTLSForSentinelMode, undefined);
      assert.equal(describeTarget(c.redis), 'Sentinel group "sheriff" via sentinel-0.redis:26379, sentinel-1.redis:26380');
      assert.ok(!describeTarget(c.redis).includes('from-env-secret'));
    } finally {
      delete process.env.SHERIFF_TEST_REDIS_PW;
    }
  });

  it('tls: true turns on TLS to the master and to the sentinels', () => {
    const c = parseConfig({ redis: { sentinels: [{ host: 's1' }], name: 'm', tls: true } });
    const o = redisOptions(c.redis);
    assert.equal(o.enableTLSForSentinelMode, true);
    assert.deepEqual(o.tls, {});
  });

  it('mistakes are errors with the path: unknown key, no sentinels, missing name', () => {
    const problems = (redis: unknown) => {
      try {
        parseConfig({ redis });
        return [];
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.problems;
      }
    };
    assert.ok(problems({ sentinels: [{ host: 's1' }], name: 'm', master: 'x' }).some((p) => p.includes('redis')), 'unknown key refused');
    assert.notDeepEqual(problems({ sentinels: [], name: 'm' }), []);
    assert.notDeepEqual(problems({ sentinels: [{ host: 's1' }] }), []);
    assert.notDeepEqual(problems({ sentinels: [{ host: 's1', port: 70000 }], name: 'm' }), []);
  });
});
