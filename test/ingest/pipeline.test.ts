// The pipeline's promise: an alert answered 202 is on the queue. A failed queue add leaves nothing that would make the
// detector's retry look like a duplicate, even when Redis went away before the rollback could run.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseConfig } from '../../src/config.js';
import { SheriffError } from '../../src/errors.js';
import { createIngestPipeline } from '../../src/ingest/pipeline.js';
import { AlertStore } from '../../src/ingest/store.js';
import { createLogger } from '../../src/log.js';
import { alertJobKey, QUEUES } from '../../src/queue/names.js';
import { requestConnection, workerConnection } from '../../src/redis.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../helpers/redis.js';

/** A real alerts queue that counts its adds and fails them while `failing.on` is set (Redis gone between the store script and the add). */
function flakyQueue(real: Queue): { queue: Queue; failing: { on: boolean }; adds: { n: number } } {
  const failing = { on: false };
  const adds = { n: 0 };
  const queue = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'add' || prop === 'addBulk') {
        return (...args: unknown[]) => {
          if (failing.on) return Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
          adds.n++;
          return (Reflect.get(target, prop, receiver) as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { queue, failing, adds };
}

/** An alert store whose rollback cannot reach Redis either. */
class StoreWithoutRollback extends AlertStore {
  override rollback(): Promise<void> { return Promise.reject(new Error('Connection is closed.')); }
}

describe('ingest pipeline', () => {
  const prefix = testPrefix('pipeline');
  let redis: Redis;
  let bull: Redis;
  let real: Queue;
  const log = createLogger({ level: 'silent' });
  const config = parseConfig({ redisPrefix: prefix, sources: { generic: { allowUnauthenticated: true } } });
  before(async () => {
    redis = requestConnection(REDIS_URL);
    bull = workerConnection(REDIS_URL);
    if (redis.status !== 'ready') await once(redis, 'ready');
    real = new Queue(QUEUES.alerts, { connection: bull, prefix });
  });
  after(async () => {
    await real.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
    bull.disconnect();
  });

  const alertOf = (p: ReturnType<typeof createIngestPipeline>, id: string, ip: string) =>
    p.normalise('generic', [{ id, name: 'Rollback / Test', score: 0.5, device: { ip } }]).alerts;

  /**
   * After a failed add: the same signed delivery is taken and queued; once queued, the same signature is a replay
   * and a fresh signature over the same alert is a duplicate.
   */
  async function retryTakenOnceThenDeduped(p: ReturnType<typeof createIngestPipeline>, alerts: ReturnType<typeof alertOf>, sig: string, otherSig: string) {
    const id = alerts[0]?.alert.id as string;
    assert.deepEqual(await p.commit(alerts, sig), [{ index: 0, id, duplicate: false }]);
    assert.ok(await real.getJob(id), 'the retry is on the queue');
    assert.equal(await p.commit(alerts, sig), 'replayed');
    assert.deepEqual(await p.commit(alerts, otherSig), [{ index: 0, id, duplicate: true }]);
  }

  it('keys alert jobs where BullMQ keeps them', async () => {
    await real.add('generic', {}, { jobId: 'layout-1' });
    assert.equal(alertJobKey(prefix, 'layout-1'), real.toKey('layout-1'));
    assert.equal(await redis.exists(alertJobKey(prefix, 'layout-1')), 1);
    await real.remove('layout-1');
  });

  it('rolls back dedupe, store and replay keys when the queue add fails', async () => {
    const { queue, failing } = flakyQueue(real);
    const p = createIngestPipeline({ config, redis, queue, log });
    const alerts = alertOf(p, 'rb-1', '10.70.0.1');
    failing.on = true;
    await assert.rejects(p.commit(alerts, 'sig-1'), (e: unknown) => e instanceof SheriffError && e.code === 'QUEUE_UNAVAILABLE');
    const id = alerts[0]?.alert.id as string;
    assert.equal(await p.store.get(id), null);
    assert.equal((await p.store.listByDevice('10.70.0.1', { limit: 10 })).items.length, 0);
    failing.on = false;
    await retryTakenOnceThenDeduped(p, alerts, 'sig-1', 'sig-2');
  });

  it('takes the retry when the add failed and the rollback could not run either', async () => {
    const { queue, failing } = flakyQueue(real);
    const store = new StoreWithoutRollback(redis, prefix, { retentionMs: config.ingest.retention, dedupeWindowMs: config.ingest.dedupeWindow });
    const p = createIngestPipeline({ config, redis, queue, log, store });
    const alerts = alertOf(p, 'rb-2', '10.70.0.2');
    const id = alerts[0]?.alert.id as string;
    failing.on = true;
    await assert.rejects(p.commit(alerts, 'sig-3'), (e: unknown) => e instanceof SheriffError && e.code === 'QUEUE_UNAVAILABLE');
    assert.ok(await redis.exists(`${prefix}:ingest:seen:${id}`), 'the dedupe key was left behind');
    failing.on = false;
    // The same signed delivery again (a detector that retries the exact bytes): not a replay, not a duplicate.
    await retryTakenOnceThenDeduped(p, alerts, 'sig-3', 'sig-4');
  });

  it('a re-delivery stays a duplicate after the decided job is removed, and is taken when the job never ran', async () => {
    const p = createIngestPipeline({ config, redis, queue: real, log });
    const decided = alertOf(p, 'rb-3', '10.70.0.3');
    const decidedId = decided[0]?.alert.id as string;
    assert.deepEqual(await p.commit(decided), [{ index: 0, id: decidedId, duplicate: false }]);
    await p.store.markDecided(decidedId);
    await real.remove(decidedId); // BullMQ's retention removes completed jobs
    assert.deepEqual(await p.commit(decided), [{ index: 0, id: decidedId, duplicate: true }]);
    assert.equal(await real.getJob(decidedId), undefined, 'no second job for a decided alert');

    // A job removed without being decided (a failed job past its retention): the alert is taken again.
    const undecided = alertOf(p, 'rb-4', '10.70.0.4');
    const undecidedId = undecided[0]?.alert.id as string;
    await p.commit(undecided);
    await real.remove(undecidedId);
    assert.deepEqual(await p.commit(undecided), [{ index: 0, id: undecidedId, duplicate: false }]);
    assert.ok(await real.getJob(undecidedId));
  });

  it('POSTs that arrive together are committed together, each with its own answer', async () => {
    const { queue, adds } = flakyQueue(real);
    const p = createIngestPipeline({ config, redis, queue, log });
    const used = alertOf(p, 'gc-used', '10.71.0.250');
    await p.commit(used, 'gc-sig-used');
    adds.n = 0;
    // 40 deliveries at once: 30 distinct alerts, 10 re-deliveries of some of them, one replayed signature.
    const deliveries = Array.from({ length: 40 }, (_v, i) => alertOf(p, `gc-${i % 30}`, `10.71.0.${(i % 30) + 1}`));
    const answers = await Promise.all([
      ...deliveries.map((alerts, i) => p.commit(alerts, `gc-sig-${i}`)),
      p.commit(used, 'gc-sig-used'),
    ]);
    assert.equal(answers[40], 'replayed');
    const flags = answers.slice(0, 40).map((a) => (a === 'replayed' ? 'replayed' : a[0]?.duplicate));
    assert.deepEqual(flags, [...Array(30).fill(false), ...Array(10).fill(true)], 'the first of each id is new, its re-deliveries duplicates');
    for (let i = 0; i < 30; i++) assert.ok(await real.getJob(deliveries[i]?.[0]?.alert.id as string), `job for gc-${i}`);
    assert.ok(adds.n < 40, `queue round trips were shared (${adds.n} for 40 deliveries)`);
  });

  it('a failed add in a shared commit refuses every delivery in it and leaves their retries welcome', async () => {
    const { queue, failing } = flakyQueue(real);
    const p = createIngestPipeline({ config, redis, queue, log });
    const deliveries = Array.from({ length: 10 }, (_v, i) => alertOf(p, `gf-${i}`, `10.72.0.${i + 1}`));
    failing.on = true;
    const results = await Promise.allSettled(deliveries.map((alerts, i) => p.commit(alerts, `gf-sig-${i}`)));
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof SheriffError && r.reason.code === 'QUEUE_UNAVAILABLE'), JSON.stringify(results.map((r) => r.status)));
    failing.on = false;
    const retried = await Promise.all(deliveries.map((alerts, i) => p.commit(alerts, `gf-sig-${i}`)));
    assert.deepEqual(retried.map((r) => (r === 'replayed' ? 'replayed' : r[0]?.duplicate)), Array(10).fill(false));
    for (const alerts of deliveries) assert.ok(await real.getJob(alerts[0]?.alert.id as string));
  });
});
