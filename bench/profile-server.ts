// Profiling aid: only the sheriff ingest server under wrk load; SHERIFF_PROFILE_OUT writes a CPU profile of the run.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { buildServer } from '../src/api/server.js';
import { ingestRoutes } from '../src/api/routes/ingest.js';
import { parseConfig } from '../src/config.js';
import { signBody } from '../src/ingest/webhook-auth.js';
import { createLogger } from '../src/log.js';
import { QUEUES } from '../src/queue/names.js';
import { requestConnection } from '../src/redis.js';
import { dropPrefix } from '../test/helpers/redis.js';
import { LUA } from './ingest.js';

const run = promisify(execFile);
const SECONDS = Number(process.env.SHERIFF_BENCH_SECONDS ?? 10);
const SECRET = randomBytes(24).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'sheriff-prof-'));
const prefix = `{sheriff-prof-${randomBytes(4).toString('hex')}}`;
const log = createLogger({ level: 'silent' });
const luaFile = join(dir, 'r.lua');
writeFileSync(luaFile, LUA);
const lines: string[] = [];
const t = Math.floor(Date.now() / 1000);
for (let k = 0; k < 100_000; k++) {
  const body = JSON.stringify({ modelName: 'Compromise / SSH Beacon', score: 80, pbid: Date.now() * 1000 + k, breachTime: Date.now(), deviceIp: `10.1.${(k >> 8) & 255}.${(k & 255) || 1}`, destIP: '185.199.108.153', destPort: 2222, deviceHostname: `bench-${k}` });
  lines.push(`${signBody(SECRET, body, t)}\t${body}`);
}
writeFileSync(join(dir, 'd.tsv'), `${lines.join('\n')}\n`);
const config = parseConfig({ redisPrefix: prefix, sources: { darktrace: { secret: SECRET } } });
const REDIS_URL = process.env.SHERIFF_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const redis = requestConnection(REDIS_URL, log);
if (redis.status !== 'ready') await once(redis, 'ready');
const alerts = new Queue(QUEUES.alerts, { connection: redis, prefix });
const app = await buildServer({ log, bodyLimit: config.ingest.bodyLimit, plugins: [ingestRoutes({ config, redis, queue: alerts, log })] });
await app.listen({ host: '127.0.0.1', port: 0 });
const port = (app.server.address() as { port: number }).port;
const redisCpu = async () => { const info = await redis.info('cpu'); return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0); };
// SHERIFF_PROFILE_OUT=file.cpuprofile: a CPU profile of the measured run only (no data generation or start-up).
const session = process.env.SHERIFF_PROFILE_OUT ? new Session() : null;
if (session) {
  session.connect();
  await new Promise<void>((r, j) => session.post('Profiler.enable', (e) => (e ? j(e) : session.post('Profiler.start', (e2) => (e2 ? j(e2) : r())))));
}
const threads = () => Object.fromEntries(readdirSync('/proc/self/task').map((tid) => {
  const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return [`${tid}:${readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()}`, Number(f[11]) + Number(f[12])];
}));
const th0 = threads();
const rcpu0 = await redisCpu();
const cpu0 = process.cpuUsage();
const { stdout } = await run('wrk', ['-t', '2', '-c', '32', '-d', `${SECONDS}s`, '-s', luaFile, `http://127.0.0.1:${port}`, '--', '/v1/alerts/darktrace', join(dir, 'd.tsv'), '2']);
const cpu = process.cpuUsage(cpu0);
const th1 = threads();
if (process.env.SHERIFF_PROFILE_THREADS) console.log(Object.entries(th1).map(([k, v]) => `${k} ${v - (th0[k] ?? 0)}`).filter((l) => !l.endsWith(' 0')).join(', '), '(clock ticks)');
if (session) {
  const profile = await new Promise<unknown>((r, j) => session.post('Profiler.stop', (e, res) => (e ? j(e) : r(res.profile))));
  writeFileSync(process.env.SHERIFF_PROFILE_OUT as string, JSON.stringify(profile));
  session.disconnect();
}
const rcpu = (await redisCpu()) - rcpu0;
const res = JSON.parse((stdout.split('\n').find((l) => l.startsWith('RESULT')) ?? 'RESULT {}').slice(7)) as { requests: number; duration_us: number; non2xx: number };
console.log(`rps ${Math.round(res.requests / (res.duration_us / 1e6))} cpu_us_per_req ${((cpu.user + cpu.system) / res.requests).toFixed(1)} (user ${(cpu.user / res.requests).toFixed(1)}) redis_us_per_req ${((rcpu * 1e6) / res.requests).toFixed(1)} non2xx ${res.non2xx} queued ${await alerts.count()}`);
await app.close();
await alerts.close();
const cleaner = new Redis(REDIS_URL);
await dropPrefix(cleaner, prefix);
cleaner.disconnect();
redis.disconnect();
rmSync(dir, { recursive: true, force: true });
