// Jobs written by the ingest commit script are BullMQ's own: same keys and fields as Queue.add, processed by a Worker.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseConfig } from '../../src/config.js';
import { BULLMQ_VERSION, prepareJobInsert } from '../../src/ingest/job-insert.js';
import { alertJobOptions, createIngestPipeline } from '../../src/ingest/pipeline.js';
import { QUEUES, type AlertJob } from '../../src/queue/names.js';
import { requestConnection, workerConnection } from '../../src/redis.js';
import { waitFor } from '../helpers/sheriff.js';
import { dropPrefix, REDIS_URL, scanPrefix, testPrefix } from '../helpers/redis.js';

async function keysUnder(redis: Redis, base: string): Promise<string[]> {
  const out: string[] = [];
  for await (const keys of scanPrefix(redis, base)) out.push(...keys);
  return out.map((k) => k.slice(base.length)).sort();
}

describe('BullMQ jobs from the ingest commit script', () => {
  const prefix = testPrefix('jobins');
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

  it('the installed and pinned bullmq are the version the script was verified against', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    assert.equal(pkg.dependencies.bullmq, BULLMQ_VERSION, 'package.json must pin bullmq exactly');
    const installed = JSON.parse(readFileSync(new URL('../../node_modules/bullmq/package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(installed.version, BULLMQ_VERSION);
  });

  it('refuses options that BullMQ would add with another script than addStandardJob', () => {
    assert.throws(() => prepareJobInsert(queue, { delay: 1000 }), /addDelayedJob.*only addStandardJob/);
    assert.throws(() => prepareJobInsert(queue, { priority: 3 }), /addPrioritizedJob.*only addStandardJob/);
    assert.ok(prepareJobInsert(queue, alertJobOptions(60_000)).opts.length > 0);
  });

  it('writes the same keys and job fields as Queue.add with the same name, data and options', async () => {
    const config = parseConfig({ redisPrefix: prefix, sources: { generic: { allowUnauthenticated: true } } });
    const p = createIngestPipeline({ config, redis, queue });
    const batch = p.normalise('generic', [{ id: 'same-1', name: 'Compat / Job', score: 0.7, device: { ip: '10.71.0.1', tags: ['a'] } }]);
    const alert = batch.alerts[0]!.alert;
    assert.deepEqual(await p.commit(batch.alerts), [{ index: 0, id: alert.id, duplicate: false }]);

    const ref = new Queue('alerts-ref', { connection: redis, prefix });
    try {
      const { raw: _raw, ...rest } = alert;
      const data: AlertJob = { alert: rest };
      await ref.add(alert.source, data, { jobId: alert.id, ...alertJobOptions(config.ingest.dedupeWindow) });
      const ours = await keysUnder(redis, `${prefix}:alerts:`);
      const theirs = await keysUnder(redis, `${prefix}:alerts-ref:`);
      assert.ok(ours.includes(alert.id) && ours.includes('wait') && ours.includes('events'), ours.join());
      assert.deepEqual(ours, theirs);
      const a = await redis.hgetall(`${prefix}:alerts:${alert.id}`);
      const b = await redis.hgetall(`${prefix}:alerts-ref:${alert.id}`);
      assert.ok(Math.abs(Number(a.timestamp) - Number(b.timestamp)) < 60_000);
      delete a.timestamp;
      delete b.timestamp;
      // Both are cjson encodings of a Lua table: same content, key order up to Lua.
      assert.deepEqual(JSON.parse(a.opts ?? ''), JSON.parse(b.opts ?? ''));
      delete a.opts;
      delete b.opts;
      assert.deepEqual(a, b);
      assert.deepEqual(await redis.lrange(`${prefix}:alerts:wait`, 0, -1), await redis.lrange(`${prefix}:alerts-ref:wait`, 0, -1));
      const events = async (q: string) => (await redis.xrange(`${prefix}:${q}:events`, '-', '+')).map(([, fields]) => fields.join(' '));
      assert.deepEqual(await events('alerts'), await events('alerts-ref'));
    } finally {
      await ref.close();
    }
  });

  it('a BullMQ Worker processes the jobs of a multi-alert POST with their data and options', async () => {
    const config = parseConfig({ redisPrefix: prefix, sources: { generic: { allowUnauthenticated: true } } });
    const p = createIngestPipeline({ config, redis, queue });
    const batch = p.normalise('generic', [1, 2, 3].map((n) => ({ id: `work-${n}`, name: `Work / ${n}`, score: 0.5, device: { ip: `10.71.1.${n}` } })));
    const seen: Job[] = [];
    const connection = workerConnection(REDIS_URL);
    const worker = new Worker(QUEUES.alerts, async (job: Job) => { seen.push(job); return { ok: job.id }; }, { connection, prefix });
    try {
      await p.commit(batch.alerts, 'work-sig');
      const ids = batch.alerts.map((a) => a.alert.id);
      await waitFor(async () => ids.every((id) => seen.some((j) => j.id === id)), 'the worker processed every job');
      for (const { alert } of batch.alerts) {
        const job = seen.find((j) => j.id === alert.id)!;
        const { raw: _raw, ...rest } = alert;
        assert.equal(job.name, 'generic');
        assert.deepEqual(job.data, { alert: rest });
        const want = alertJobOptions(config.ingest.dedupeWindow);
        assert.deepEqual(job.opts.removeOnComplete, want.removeOnComplete);
        assert.deepEqual(job.opts.removeOnFail, want.removeOnFail);
        assert.equal(job.opts.attempts, want.attempts);
        assert.deepEqual(job.opts.backoff, want.backoff);
        await waitFor(async () => (await queue.getJobState(alert.id)) === 'completed', `job ${alert.id} completed`);
        assert.deepEqual((await queue.getJob(alert.id))?.returnvalue, { ok: alert.id });
      }
    } finally {
      await worker.close();
      connection.disconnect();
    }
  });
});
