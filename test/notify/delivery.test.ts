// Notification delivery through the real BullMQ queue: retries with back-off until the receiver recovers; 4xx stops.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config.js';
import type { ActionRecord } from '../../src/contracts/action.js';
import { createSourceAuth } from '../../src/ingest/webhook-auth.js';
import { createLogger } from '../../src/log.js';
import { startNotifications, type Notifications } from '../../src/notify/wire.js';
import { workerConnection } from '../../src/redis.js';
import { dropPrefix, REDIS_URL, testPrefix, testRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/sheriff.js';
import { startReceiver, type Receiver, type Script } from './receiver.js';

const SECRET = 'notify-secret-0123456789abcdef';

const record: ActionRecord = {
  id: 'a-retry00001', action: 'quarantine-device', params: { allow: [] }, target: { ip: '10.4.0.1' },
  state: 'active', mode: 'auto', playbook: null, alertIds: [], reason: 'test', ttlMs: 60_000,
  createdAt: new Date().toISOString(), connectors: [], history: [],
};

async function setup(script: Script): Promise<{ rx: Receiver; n: Notifications; prefix: string; close(): Promise<void> }> {
  const rx = await startReceiver(script);
  const prefix = testPrefix('notify');
  const config = parseConfig({ redisPrefix: prefix, notify: [{ type: 'webhook', url: rx.url, secret: SECRET }] });
  const connection = workerConnection(REDIS_URL);
  const n = startNotifications({ config, connection, log: createLogger({ level: 'silent' }), deliver: true, backoffMs: 50, attempts: 5 });
  await n.worker?.waitUntilReady();
  return {
    rx, n, prefix,
    async close() {
      await rx.close();
      await n.close();
      connection.disconnect();
      const r = testRedis();
      await dropPrefix(r, prefix);
      r.disconnect();
    },
  };
}

describe('notification delivery queue', () => {
  const open: Array<() => Promise<void>> = [];
  after(async () => { for (const c of open) await c(); });

  it('a receiver answering 500 twice is retried until it takes the delivery; every attempt is validly signed', async () => {
    const s = await setup((n) => (n < 2 ? 500 : 200));
    open.push(s.close);
    s.n.notifier.emit('enforced', record);
    await waitFor(async () => s.rx.received.some((r) => r.answered === 200), 'a successful delivery');
    assert.deepEqual(s.rx.received.map((r) => r.answered), [500, 500, 200]);
    const ids = new Set(s.rx.received.map((r) => r.headers['x-sheriff-delivery']));
    assert.equal(ids.size, 1, 'retries keep the delivery id');
    const auth = createSourceAuth({ sources: { generic: { secret: SECRET, allowUnauthenticated: false } } });
    for (const r of s.rx.received) {
      assert.equal(r.json.action.id, record.id);
      assert.equal(auth.verify('generic', r.headers as Record<string, string>, r.raw, Math.floor(Date.now() / 1000)).ok, true);
    }
    // the receiver answers before the worker records the job as completed: wait for that record
    const job = await waitFor(async () => (await s.n.notifier.queue!.getJobs(['completed']))[0], 'the job to be completed');
    assert.equal(job.attemptsMade, 3);
  });

  it('a 404 is not retried: the job fails after one attempt', async () => {
    const s = await setup(() => 404);
    open.push(s.close);
    s.n.notifier.emit('expired', { ...record, state: 'expired' });
    const failed = await waitFor(async () => (await s.n.notifier.queue!.getJobs(['failed']))[0], 'the job to fail');
    assert.equal(failed.attemptsMade, 1);
    assert.match(failed.failedReason, /404/);
    assert.equal(s.rx.received.length, 1);
  });

  it('a receiver that never recovers is given up after the configured attempts', async () => {
    const s = await setup(() => 503);
    open.push(s.close);
    s.n.notifier.emit('failed', { ...record, state: 'failed' });
    const failed = await waitFor(async () => (await s.n.notifier.queue!.getJobs(['failed']))[0], 'the job to be given up', 15_000);
    assert.equal(failed.attemptsMade, 5);
    assert.equal(s.rx.received.length, 5);
  });
});
