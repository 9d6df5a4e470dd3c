// The pipeline's promise: an alert answered 202 is stored and on the queue (one atomic script). A job add that fails
// inside Redis, or a script Redis stopped half-way, leaves nothing that would make the detector's retry look like a
// duplicate.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseConfig } from '../../src/config.js';
import { SheriffError } from '../../src/errors.js';
import { createIngestPipeline } from '../../src/ingest/pipeline.js';
import { AlertStore, type CommitAnswer, type Delivery } from '../../src/ingest/store.js';
import { alertJobKey, QUEUES } from '../../src/queue/names.js';
import { requestConnection, workerConnection } from '../../src/redis.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../helpers/redis.js';

/** An alert store that counts its commit round trips. */
class CountingStore extends AlertStore {
  commits = 0;
  override commitMany(deliveries: Delivery[], opts?: Parameters<AlertStore['commitMany']>[1]): Promise<CommitAnswer[]> {
    this.commits++;
    return super.commitMany(deliveries, opts);
  }
}

const isUnavailable = (e: unknown) => e instanceof SheriffError && e.code === 'QUEUE_UNAVAILABLE';

describe('ingest pipeline', () => {
  const prefix = testPrefix('pipeline');
  let redis: Redis;
  let bull: Redis;
  let real: Queue;
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

  it('a job add that fails inside Redis undoes the alert, answers 503 and takes the retry', async () => {
    const p = createIngestPipeline({ config, redis, queue: real });
    const alerts = alertOf(p, 'rb-1', '10.70.0.1');
    const id = alerts[0]?.alert.id as string;
    // BullMQ's add starts with INCR on the queue's id counter: a counter that is not a number makes it fail.
    await redis.set(`${prefix}:alerts:id`, 'not-a-number');
    try {
      await assert.rejects(p.commit(alerts, 'sig-1'), (e: unknown) => {
        assert.ok(isUnavailable(e));
        assert.match(String((e as SheriffError).cause), /job add failed: .*not an integer/);
        assert.match((e as SheriffError).message, /^Redis refused to queue an alert/);
        return true;
      });
    } finally {
      await redis.del(`${prefix}:alerts:id`);
    }
    assert.equal(await p.store.get(id), null);
    assert.equal((await p.store.listByDevice('10.70.0.1', { limit: 10 })).items.length, 0);
    assert.equal(await redis.exists(`${prefix}:ingest:seen:${id}`), 0, 'no dedupe key left behind');
    assert.equal(await real.getJob(id), undefined);
    await retryTakenOnceThenDeduped(p, alerts, 'sig-1', 'sig-2');
  });

  it('takes the retry when Redis stopped the script after the store, before the job add', async () => {
    const p = createIngestPipeline({ config, redis, queue: real });
    const alerts = alertOf(p, 'rb-2', '10.70.0.2');
    const id = alerts[0]?.alert.id as string;
    // What such a script leaves: the dedupe key ('q') and the used signature, no job.
    await redis.set(`${prefix}:ingest:seen:${id}`, 'q', 'PX', 60_000);
    await redis.set(p.store.replayKey('sig-3'), '1', 'PX', 60_000);
    // The same signed delivery again (a detector that retries the exact bytes): not a replay, not a duplicate.
    await retryTakenOnceThenDeduped(p, alerts, 'sig-3', 'sig-4');
  });

  it('a re-delivery stays a duplicate after the decided job is removed, and is taken when the job never ran', async () => {
    const p = createIngestPipeline({ config, redis, queue: real });
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
    const store = new CountingStore(redis, prefix, { retentionMs: config.ingest.retention, dedupeWindowMs: config.ingest.dedupeWindow });
    const p = createIngestPipeline({ config, redis, queue: real, store });
    const used = alertOf(p, 'gc-used', '10.71.0.250');
    await p.commit(used, 'gc-sig-used');
    store.commits = 0;
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
    assert.ok(store.commits < 40, `round trips were shared (${store.commits} for 41 deliveries)`);
  });

  it('the same alert twice in one commit is new once, with or without its job add', async () => {
    const p = createIngestPipeline({ config, redis, queue: real });
    const once = alertOf(p, 'twice-1', '10.73.0.1').map((a) => a.alert);
    assert.deepEqual(await p.store.commitMany([{ alerts: once }, { alerts: once }]), [[true], [false]]);
    const queued = alertOf(p, 'twice-2', '10.73.0.2');
    const answers = await Promise.all([p.commit(queued), p.commit(queued)]);
    assert.deepEqual(answers.map((a) => (a === 'replayed' ? a : a[0]?.duplicate)), [false, true]);
  });

  it('a failed job add in a shared commit refuses only the deliveries it touched', async () => {
    const p = createIngestPipeline({ config, redis, queue: real });
    const deliveries = Array.from({ length: 10 }, (_v, i) => alertOf(p, `gf-${i}`, `10.72.0.${i + 1}`));
    const bad = deliveries[3]?.[0]?.alert.id as string;
    // Something that is not a BullMQ job hash already sits at that alert's job key: BullMQ's add fails on it.
    await redis.set(alertJobKey(prefix, bad), 'not-a-hash');
    let results: PromiseSettledResult<Awaited<ReturnType<typeof p.commit>>>[];
    try {
      results = await Promise.allSettled(deliveries.map((alerts, i) => p.commit(alerts, `gf-sig-${i}`)));
    } finally {
      await redis.del(alertJobKey(prefix, bad));
    }
    assert.deepEqual(results.map((r) => r.status), deliveries.map((_d, i) => (i === 3 ? 'rejected' : 'fulfilled')));
    assert.ok(results[3]?.status === 'rejected' && isUnavailable(results[3].reason));
    assert.equal(await p.store.get(bad), null, 'nothing of the failed alert is stored');
    for (const [i, alerts] of deliveries.entries()) if (i !== 3) assert.ok(await real.getJob(alerts[0]?.alert.id as string), `job gf-${i}`);
    // Its retry, with the same signature, is taken; the others' retries are replays.
    assert.deepEqual(await p.commit(deliveries[3] ?? [], 'gf-sig-3'), [{ index: 0, id: bad, duplicate: false }]);
    assert.ok(await real.getJob(bad));
    assert.equal(await p.commit(deliveries[4] ?? [], 'gf-sig-4'), 'replayed');
  });
});
