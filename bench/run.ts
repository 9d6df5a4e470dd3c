// `npm run bench`: every benchmark in turn, each against a floor measured in the same run; writes bench/results.json.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { benchContain } from './contain.js';
import { benchIngest } from './ingest.js';
import { benchLatency, printLatency } from './latency.js';
import { benchScale, printScale } from './scale.js';
import { benchStorm, printStorm } from './storm.js';

const REDIS_URL = process.env.SHERIFF_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const started = Date.now();
const results: Record<string, unknown> = { startedAt: new Date().toISOString(), node: process.version };
const say = (s: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}`);

async function section(name: string, fn: () => Promise<unknown>): Promise<void> {
  say(`── ${name}`);
  try {
    results[name] = (await fn()) ?? { skipped: true };
  } catch (err) {
    say(`${name}: FAILED: ${(err as Error).message}`);
    results[name] = { error: (err as Error).message };
  }
}

const probe = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });
try {
  await probe.connect();
  await probe.ping();
} catch {
  console.error(`Redis is not reachable at ${REDIS_URL}: start it (redis-server --daemonize yes) or set SHERIFF_BENCH_REDIS.`);
  process.exit(2);
} finally {
  probe.disconnect();
}

await section('ingest', async () => {
  if (spawnSync('wrk', ['--version']).error) {
    say('ingest: skipped: wrk is not installed (apt-get install -y wrk)');
    return { skipped: 'no wrk' };
  }
  const r = await benchIngest((line) => say(`ingest ${line}`));
  say(`ingest: sheriff ${r.sheriff_rps} alerts/s (p99 ${r.sheriff_p99_ms} ms); floor HTTP ${r.http_floor_rps}/s ∘ BullMQ add ${r.queue_floor_rps}/s = ${r.composed_floor_rps}/s; ratio ${r.ratio} (median of ${r.rounds.length} rounds, ${r.ratio_min}–${r.ratio_max}; target >= 0.5)`);
  return r;
});

await section('storm', async () => {
  const r = await benchStorm({ alerts: Number(process.env.STORM_ALERTS ?? 100_000), progress: say });
  printStorm(r);
  return r;
});

await section('latency', async () => {
  const r = await benchLatency({ alerts: 200, progress: say });
  if (r) printLatency(r);
  return r ?? { skipped: 'not root / no ipset or iptables' };
});

await section('contain', async () => {
  const r = await benchContain(Number(process.env.BENCH_DEVICES ?? 100_000));
  return r ?? { skipped: 'not root / no ipset' };
});

await section('scale', async () => {
  const r = await benchScale({ actions: Number(process.env.SCALE_ACTIONS ?? 100_000), progress: say });
  printScale(r);
  return r;
});

results.finishedAt = new Date().toISOString();
results.seconds = Math.round((Date.now() - started) / 1000);
const out = join(import.meta.dirname, 'results.json');
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
say(`done in ${results.seconds} s; figures in ${out}`);
const storm = results.storm as { pass?: boolean } | undefined;
process.exit(storm?.pass === false ? 1 : 0);
