// Ingest benchmark: signed Darktrace webhooks through sheriff vs. an HTTP floor and a BullMQ floor, driven by wrk.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { buildServer } from '../src/api/server.js';
import { ingestRoutes } from '../src/api/routes/ingest.js';
import { parseConfig } from '../src/config.js';
import { signBody } from '../src/ingest/webhook-auth.js';
import { createLogger } from '../src/log.js';
import { QUEUES } from '../src/queue/names.js';
import { requestConnection } from '../src/redis.js';
import { dropPrefix } from '../test/helpers/redis.js';

const run = promisify(execFile);
const REDIS_URL = process.env.SHERIFF_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.SHERIFF_BENCH_SECONDS ?? 8);
const CONNECTIONS = 32;
// Every measured run is preceded by an unmeasured one on distinct data, so JIT, script loading and connection
// set-up are not part of any of the three rates.
const WARMUP_SECONDS = Number(process.env.SHERIFF_BENCH_WARMUP ?? 2);
/** Rounds of (HTTP floor, queue floor, sheriff); the median round by ratio is the result. */
const ROUNDS = Math.max(1, Number(process.env.SHERIFF_BENCH_ROUNDS ?? 3));
const SECRET = randomBytes(24).toString('hex');

// Reads "<signature>\t<body>" lines; each wrk thread keeps every n-th one, so no request is sent twice.
export const LUA = `
local threads, counter = {}, 0
function setup(thread) thread:set("id", counter); counter = counter + 1; table.insert(threads, thread) end
function init(args)
  local path, file, nthreads = args[1], args[2], tonumber(args[3])
  reqs, i, n = {}, 0, 0
  local k = 0
  for line in io.lines(file) do
    if k % nthreads == id then
      local tab = line:find("\\t", 1, true)
      local sig, body = line:sub(1, tab - 1), line:sub(tab + 1)
      n = n + 1
      reqs[n] = wrk.format("POST", path, { ["Content-Type"] = "application/json", ["X-Sheriff-Signature"] = sig }, body)
    end
    k = k + 1
  end
end
function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d,"non2xx":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
`;

interface WrkResult { requests: number; duration_us: number; p50_us: number; p99_us: number; errors: number; non2xx: number }

async function wrk(url: string, path: string, dataFile: string, luaFile: string, seconds = SECONDS): Promise<WrkResult & { rate: number }> {
  const threads = 2;
  const { stdout } = await run('wrk', ['-t', String(threads), '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--timeout', '5s', '-s', luaFile, url, '--', path, dataFile, String(threads)], { maxBuffer: 1 << 20 });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const r = JSON.parse(line.slice(7)) as WrkResult;
  return { ...r, rate: r.requests / (r.duration_us / 1e6) };
}

/** Distinct breaches (push shape, distinct pbid), each signed now; enough for the whole run at a generous rate. */
function writeRequests(file: string, count: number, label = 'run'): void {
  const lines: string[] = [];
  const t = Math.floor(Date.now() / 1000);
  const runId = label === 'warm' ? Date.now() + 1e6 : Date.now();
  for (let k = 0; k < count; k++) {
    const body = JSON.stringify({
      modelName: 'Compromise / SSH Beacon', score: 80 + (k % 20), pbid: runId * 1000 + k, uuid: `bench-${runId}-${k}`,
      breachTime: Date.now(), deviceIp: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${(k & 255) || 1}`,
      destIP: '185.199.108.153', destPort: 2222, deviceHostname: `bench-${k}`,
    });
    lines.push(`${signBody(SECRET, body, t)}\t${body}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

async function queueFloor(prefix: string, seconds = SECONDS): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('floor', { connection: redis, prefix });
  const payload = { alert: { blob: 'x'.repeat(1400) } };
  let added = 0;
  const start = process.hrtime.bigint();
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async (_v, lane) => {
    for (let k = 0; Date.now() < deadline; k++) {
      await queue.add('floor', payload, { jobId: `floor-${seconds}-${lane}-${k}` });
      added++;
    }
  }));
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  await queue.close();
  redis.disconnect();
  return added / elapsed;
}

export interface IngestResult {
  sheriff_rps: number; sheriff_p50_ms: number; sheriff_p99_ms: number; sheriff_errors: number; sheriff_queued: number;
  http_floor_rps: number; queue_floor_rps: number; composed_floor_rps: number;
  ratio: number; ratio_min: number; ratio_max: number; rounds: IngestRound[];
}

export interface IngestRound { http: number; queue: number; sheriff: number; p50_ms: number; p99_ms: number; errors: number; ratio: number }

/**
 * ROUNDS rounds (default 3), each measuring the HTTP floor, the queue floor and sheriff for SECONDS each, in a
 * rotating order: each ratio compares three rates taken within a minute of each other, so the machine's drift
 * (±20 % between runs of the same code on these shared boxes) falls on floor and sheriff alike. The result is the
 * median round by ratio; every round is returned too.
 */
export async function benchIngest(progress: (line: string) => void = () => undefined): Promise<IngestResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sheriff-bench-ingest-'));
  const prefix = `{sheriff-bench-${randomBytes(4).toString('hex')}}`;
  const log = createLogger({ level: 'silent' });
  const cleaner = new Redis(REDIS_URL);
  const luaFile = join(dir, 'requests.lua');
  writeFileSync(luaFile, LUA);
  const closers: Array<() => Promise<unknown>> = [];
  try {
    // HTTP floor: a trivial Fastify route answering 202, fed the very same requests.
    const floorApp = Fastify({ logger: false });
    floorApp.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_r, b, done) => done(null, b));
    floorApp.post('/floor', async (_req, reply) => reply.status(202).send({ ok: true }));
    await floorApp.listen({ host: '127.0.0.1', port: 0 });
    closers.push(() => floorApp.close());
    const floorData = join(dir, 'floor.tsv');
    writeRequests(floorData, 40_000);
    const floorUrl = `http://127.0.0.1:${(floorApp.server.address() as { port: number }).port}`;

    // sheriff: real config, real auth, real Redis; the requests are signed just before each run.
    const config = parseConfig({ redisPrefix: prefix, sources: { darktrace: { secret: SECRET } } });
    const redis = requestConnection(REDIS_URL, log);
    if (redis.status !== 'ready') await once(redis, 'ready');
    const alerts = new Queue(QUEUES.alerts, { connection: redis, prefix });
    const app = await buildServer({ log, bodyLimit: config.ingest.bodyLimit, plugins: [ingestRoutes({ config, redis, queue: alerts, log })] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    closers.push(async () => { await app.close(); await alerts.close(); redis.disconnect(); });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

    const httpFloor = async (seconds = SECONDS) => (await wrk(floorUrl, '/floor', floorData, luaFile, seconds)).rate;
    const queueFloorRun = async (seconds = SECONDS) => {
      const rate = await queueFloor(`${prefix}-floor`, seconds);
      await dropPrefix(cleaner, `${prefix}-floor`);
      return rate;
    };
    let lastHttp = 0;
    const sheriffRun = async (seconds = SECONDS, label = 'run') => {
      const data = join(dir, `sheriff-${label}.tsv`);
      writeRequests(data, Math.ceil(Math.max(20_000, (lastHttp || 40_000) * seconds * 0.8)), label);
      const before = await alerts.count();
      const r = await wrk(url, '/v1/alerts/darktrace', data, luaFile, seconds);
      return { ...r, queued: (await alerts.count()) - before };
    };

    if (WARMUP_SECONDS > 0) {
      lastHttp = await httpFloor(WARMUP_SECONDS);
      await queueFloorRun(WARMUP_SECONDS);
      await sheriffRun(WARMUP_SECONDS, 'warm');
    }
    const rounds: IngestRound[] = [];
    let queued = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const got: { http?: number; queue?: number; sheriff?: Awaited<ReturnType<typeof sheriffRun>> } = {};
      const steps = [
        async () => { got.http = await httpFloor(); lastHttp = got.http; },
        async () => { got.queue = await queueFloorRun(); },
        async () => { got.sheriff = await sheriffRun(SECONDS, `r${round}`); },
      ];
      for (let i = 0; i < steps.length; i++) await (steps[(i + round) % steps.length] as () => Promise<void>)();
      const { http = 0, queue = 0, sheriff } = got;
      if (!sheriff) throw new Error('sheriff run missing');
      queued += sheriff.queued;
      const composed = 1 / (1 / http + 1 / queue);
      const r: IngestRound = {
        http, queue, sheriff: sheriff.rate, p50_ms: sheriff.p50_us / 1000, p99_ms: sheriff.p99_us / 1000,
        errors: sheriff.errors + sheriff.non2xx, ratio: sheriff.rate / composed,
      };
      rounds.push(r);
      progress(`round ${round + 1}/${ROUNDS}: sheriff ${Math.round(r.sheriff)}/s (p99 ${r.p99_ms} ms, errors ${r.errors}), HTTP ${Math.round(http)}/s, BullMQ add ${Math.round(queue)}/s, composed ${Math.round(composed)}/s, ratio ${r.ratio.toFixed(3)}`);
    }
    const mid = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)] as IngestRound;
    return {
      sheriff_rps: Math.round(mid.sheriff),
      sheriff_p50_ms: mid.p50_ms,
      sheriff_p99_ms: mid.p99_ms,
      sheriff_errors: rounds.reduce((a, r) => a + r.errors, 0),
      sheriff_queued: queued,
      http_floor_rps: Math.round(mid.http),
      queue_floor_rps: Math.round(mid.queue),
      composed_floor_rps: Math.round(1 / (1 / mid.http + 1 / mid.queue)),
      ratio: Math.round(mid.ratio * 1000) / 1000,
      ratio_min: Math.round(Math.min(...rounds.map((r) => r.ratio)) * 1000) / 1000,
      ratio_max: Math.round(Math.max(...rounds.map((r) => r.ratio)) * 1000) / 1000,
      rounds,
    };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await dropPrefix(cleaner, prefix).catch(() => undefined);
    cleaner.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await benchIngest((line) => console.log(line));
  console.log(`sheriff ingest (median round): ${r.sheriff_rps} alerts/s, p50 ${r.sheriff_p50_ms} ms, p99 ${r.sheriff_p99_ms} ms, errors ${r.sheriff_errors} (all rounds), queued ${r.sheriff_queued}`);
  console.log(`floors: HTTP ${r.http_floor_rps}/s, BullMQ add ${r.queue_floor_rps}/s, composed ${r.composed_floor_rps}/s`);
  console.log(`ratio sheriff/composed: ${r.ratio} (median of ${r.rounds.length} rounds; ${r.ratio_min}–${r.ratio_max}; target >= 0.5)`);
  const { rounds: _rounds, ...flat } = r;
  console.log(JSON.stringify(flat));
}
