// The pipeline's promise: a failed queue add leaves no dedupe, store, job or replay key behind, so the detector's retry is taken.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseConfig } from '../../src/config.js';
import { SheriffError } from '../../src/errors.js';
import { createIngestPipeline } from '../../src/ingest/pipeline.js';
import { createLogger } from '../../src/log.js';
import { QUEUES } from '../../src/queue/names.js';
import { requestConnection } from '../../src/redis.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../helpers/redis.js';

describe('ingest pipeline', () => {
  const prefix = testPrefix('pipeline');
  let redis: Redis;
  let queue: Queue;
  before(async () => {
    redis = requestConnection(REDIS_URL);
    if (redis.status !== 'ready') await once(redis, 'ready');
    queue = new Queue(QUEUES.alerts, { connection: redis, prefix });
  });
  after(async () => {
    await queue.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('undoes dedupe, store, job and replay keys when the job add fails inside the script', async () => {
    const config = parseConfig({ redisPrefix: prefix, sources: { generic: { allowUnauthenticated: true } } });
    const p = createIngestPipeline({ config, redis, queue, log: createLogger({ level: 'silent' }) });
    const batch = p.normalise('generic', [{ id: 'rb-1', name: 'Rollback / Test', score: 0.5, device: { ip: '10.70.0.1' } }]);
    const id = batch.alerts[0]?.alert.id as string;
    // A wait "list" of the wrong type makes BullMQ's LPUSH fail after it has written the job hash.
    await redis.set(queue.keys.wait as string, 'not a list');
    await assert.rejects(p.commit(batch.alerts, 'sig-1'), (e: unknown) => e instanceof SheriffError && e.code === 'QUEUE_UNAVAILABLE');
    assert.equal(await p.store.get(id), null);
    assert.equal((await p.store.listByDevice('10.70.0.1', { limit: 10 })).items.length, 0);
    assert.equal(await redis.exists(`${queue.keys['']}${id}`), 0, 'no half-written job hash is left behind');

    await redis.del(queue.keys.wait as string);
    const retry = await p.commit(batch.alerts, 'sig-1');
    assert.deepEqual(retry, [{ index: 0, id, duplicate: false }]);
    assert.equal(await queue.getJobState(id), 'waiting');
    assert.deepEqual((await queue.getJob(id))?.data, { alert: (({ raw: _r, ...rest }) => rest)(batch.alerts[0]!.alert) });
    assert.equal(await p.commit(batch.alerts, 'sig-1'), 'replayed');
    assert.deepEqual(await p.commit(batch.alerts, 'sig-2'), [{ index: 0, id, duplicate: true }]);
    assert.equal(await queue.count(), 1);
  });

  it('keeps the alerts before a failing one stored and queued, and frees the signature', async () => {
    const config = parseConfig({ redisPrefix: prefix, sources: { generic: { allowUnauthenticated: true } } });
    const p = createIngestPipeline({ config, redis, queue, log: createLogger({ level: 'silent' }) });
    const batch = p.normalise('generic', [
      { id: 'part-1', name: 'Partial / One', score: 0.5, device: { ip: '10.70.0.2' } },
      { id: 'part-2', name: 'Partial / Two', score: 0.5, device: { ip: '10.70.0.3' } },
    ]);
    const [first, second] = batch.alerts.map((a) => a.alert.id) as [string, string];
    // A foreign key of the wrong type where the second alert's job hash would go: BullMQ's HGET on it fails.
    await redis.set(`${queue.keys['']}${second}`, 'not a hash');
    await assert.rejects(p.commit(batch.alerts, 'sig-3'), (e: unknown) => e instanceof SheriffError && e.code === 'QUEUE_UNAVAILABLE');
    assert.ok(await p.store.get(first), 'the first alert is stored');
    assert.equal(await queue.getJobState(first), 'waiting', 'and queued');
    assert.equal(await p.store.get(second), null);
    assert.equal(await redis.get(`${queue.keys['']}${second}`), 'not a hash', 'a key the script did not write is left alone');

    await redis.del(`${queue.keys['']}${second}`);
    const retry = await p.commit(batch.alerts, 'sig-3');
    assert.deepEqual(retry, [{ index: 0, id: first, duplicate: true }, { index: 1, id: second, duplicate: false }]);
    assert.equal(await queue.getJobState(second), 'waiting');
    assert.ok(await p.store.get(second));
  });
});
