// Redis restart mid-stream: a private redis-server (AOF on) is killed and restarted while alerts stream in.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateRedis } from '../helpers/private-redis.js';
import { SOURCE_TOKEN } from '../helpers/sheriff.js';
import {
  ALERT_NAME, acceptedCounts, deviceFor, readActions, readAudit, runId, startRun, streamAlerts, waitUntil, type Run,
} from './harness.js';

const post = (url: string, id: string, ip: string) => fetch(`${url}/v1/alerts/generic`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${SOURCE_TOKEN}` },
  body: JSON.stringify({ id, name: ALERT_NAME, score: 0.9, device: { ip } }),
  signal: AbortSignal.timeout(10_000),
});

describe('Redis restart mid-stream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sheriff-redis-'));
  let redis: PrivateRedis | null = null;
  let run: Run | null = null;
  after(async () => {
    await run?.close();
    await redis?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingest answers 503 while Redis is away, nothing that got a 202 is lost, processing resumes by itself', { timeout: 180_000 }, async () => {
    // AOF with appendfsync always: even SIGKILL keeps every acknowledged write.
    redis = await PrivateRedis.start(['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]);
    run = await startRun({ label: 'redis-restart', redisUrl: redis.url, connectors: { dry: { type: 'log' } }, ttl: '10m', workers: 1 });
    await run.waitReady();
    const id = runId();
    const devices = Array.from({ length: 400 }, (_v, i) => deviceFor('10.83.0.0', i));
    const streaming = streamAlerts(run.url, devices, { runId: id, concurrency: 4, durationMs: 12_000, on503RetryMs: 300 });

    await new Promise((r) => setTimeout(r, 3_000));
    const down = Date.now();
    await redis.kill();
    // While Redis is away: an alert is refused with 503 (never a 2xx for something not durably queued).
    const probe = await post(run.url, `${id}-probe`, '10.83.250.1');
    assert.equal(probe.status, 503, `while Redis is down: ${probe.status} ${await probe.text()}`);
    const ready = await fetch(`${run.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(ready.status, 503, '/readyz says not ready while Redis is down');
    await new Promise((r) => setTimeout(r, 3_000));
    await redis.start();
    const up = Date.now();

    const stream = await streaming;
    assert.ok((stream.statuses[503] ?? 0) + (stream.statuses[0] ?? 0) > 0, `the stream met the outage (${JSON.stringify(stream.statuses)})`);
    assert.equal(stream.accepted.size, devices.length, 'every alert was eventually accepted (a detector retries 503s)');

    // Nothing accepted is lost and nothing is decided twice; no sheriff process was restarted.
    const audit = await waitUntil(async () => {
      const a = await readAudit(run!.redis, run!.prefix);
      const c = acceptedCounts(a);
      return [...stream.accepted.keys()].every((k) => c.has(k)) ? a : null;
    }, 'every accepted alert to be decided after the restart', 90_000).catch(async (err: Error) => { throw new Error(`${err.message}\n${await run!.diagnose()}`); });
    const recovered = Date.now();
    const counts = acceptedCounts(audit);
    assert.deepEqual([...counts.entries()].filter(([, n]) => n > 1), [], 'no alert decided twice');
    const actions = await waitUntil(async () => {
      const all = await readActions(run!.redis, run!.prefix);
      return all.length === devices.length && all.every((a) => a.state === 'active') ? all : null;
    }, 'one active action per device', 60_000).catch(async (err: Error) => { throw new Error(`${err.message}\n${await run!.diagnose()}`); });
    assert.equal(new Set(actions.map((a) => a.target.ip)).size, devices.length);
    const held = await run.redis.hlen(`${run.prefix}:log-connector:dry`);
    assert.equal(held, devices.length, 'the connector holds one entry per action');
    assert.equal(run.api.starts + run.workers[0]!.starts, 2, 'no sheriff process was restarted');
    console.log(`reliability figures: ${JSON.stringify({
      variant: 'redis-restart', alertsSent: devices.length, accepted: stream.accepted.size, statuses: stream.statuses, retried: stream.retried,
      redisDownMs: up - down, processed: counts.size, actions: actions.length, allProcessedAfterRedisBackMs: recovered - up,
    })}`);
  });
});
