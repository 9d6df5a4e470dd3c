// The pipeline's promise: a failed queue add leaves no dedupe or replay key behind, so the detector's retry is taken.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseConfig } from '../../src/config.js';
import { SheriffError } from '../../src/errors.js';
import { createIngestPipeline } from '../../src/ingest/pipeline.js';
import { createLogger } from '../../src/log.js';
import { requestConnection } from '../../src/redis.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../helpers/redis.js';

describe('ingest pipeline', () => {
  const prefix = testPrefix('pipeline');
  let redis: Redis;
  before(async () => {
    redis = requestConnection(REDIS_URL);
    if (redis.status !== 'ready') await once(redis, 'ready');
  });
  after(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('rolls back dedupe, store and replay keys when the queue add fails', async () => {
    let fail = true;
    const added: string[] = [];
    const queue = {
      add: async (_n: string, _d: unknown, o: { jobId: string }) => { if (fail) throw new Error('READONLY'); added.push(o.jobId); },
      addBulk: async () => { throw new Error('unused'); },
    } as unknown as Queue;
    const config = parseConfig({ redisPrefix: prefix, sources: { generic: { allowUnauthenticated: true } } });
    const p = createIngestPipeline({ config, redis, queue, log: createLogger({ level: 'silent' }) });
    const batch = p.normalise('generic', [{ id: 'rb-1', name: 'Rollback / Test', score: 0.5, device: { ip: '10.70.0.1' } }]);
    await assert.rejects(p.commit(batch.alerts, 'sig-1'), (e: unknown) => e instanceof SheriffError && e.code === 'QUEUE_UNAVAILABLE');
    const id = batch.alerts[0]?.alert.id as string;
    assert.equal(await p.store.get(id), null);
    assert.equal((await p.store.listByDevice('10.70.0.1', { limit: 10 })).items.length, 0);
    fail = false;
    const retry = await p.commit(batch.alerts, 'sig-1');
    assert.deepEqual(retry, [{ index: 0, id, duplicate: false }]);
    assert.deepEqual(added, [id]);
    assert.equal(await p.commit(batch.alerts, 'sig-1'), 'replayed');
    assert.deepEqual(await p.commit(batch.alerts, 'sig-2'), [{ index: 0, id, duplicate: true }]);
    assert.deepEqual(added, [id]);
  });
});
