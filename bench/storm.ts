// Decision storm (issue #3): N alerts about 100 devices through the real decide path vs. a do-nothing BullMQ worker.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { parseConfig } from '../src/config.js';
import type { ActionRecord } from '../src/contracts/action.js';
import { AuditLog } from '../src/ledger/audit.js';
import { liveStates } from '../src/ledger/state-machine.js';
import { createLogger } from '../src/log.js';
import { startSheriff } from '../src/main.js';
import { QUEUES, type AlertJob } from '../src/queue/names.js';
import { dropPrefix } from '../test/helpers/redis.js';

const REDIS_URL = process.env.SHERIFF_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const CONCURRENCY = 32;
const DEVICES = 100;

// The Outlaw breaches the shipped playbooks answer, cycled per device: auto blocks, approvals, a threshold, escalation.
// (Not the uncommon-port breach: its peer port differs, so its endpoint block is a second, legitimately distinct action.)
const BREACHES: Array<{ name: string; score: number; port: number }> = [
  { name: 'Compromise / SSH Beacon', score: 0.8, port: 22 },
  { name: 'Compromise / High Priority Crypto Currency Mining [Enhanced Monitoring]', score: 0.86, port: 3333 },
  { name: 'Anomalous Connection / Multiple Connections to New External TCP Port', score: 0.68, port: 2022 },
  { name: 'Compromise / High Frequency SSH Beacon', score: 0.93, port: 2222 },
];

export interface StormResult {
  alerts: number;
  devices: number;
  mode: 'passive' | 'active';
  decideSeconds: number;
  decidePerSecond: number;
  floorSeconds: number;
  floorPerSecond: number;
  ratio: number;
  failedJobs: number;
  records: number;
  liveRecords: number;
  /** (device, action) pairs with more than one live action: must be 0. */
  duplicates: number;
  /** Decided alerts/s over the first and the second half of the run: equal when nothing grows during the run. */
  firstHalfPerSecond: number;
  secondHalfPerSecond: number;
  /** `AuditLog.verify()` over the whole chain the storm wrote: must be ok. */
  auditOk: boolean;
  auditEntries: number;
  pass: boolean;
}

function deviceIp(d: number): string {
  return `10.66.${d >> 8}.${(d & 255) + 1}`;
}

function alertJobs(n: number, run: string): Array<{ name: string; data: AlertJob; opts: { jobId: string } }> {
  const now = new Date().toISOString();
  return Array.from({ length: n }, (_, k) => {
    const d = k % DEVICES;
    const b = BREACHES[Math.floor(k / DEVICES) % BREACHES.length] as (typeof BREACHES)[number];
    const id = `storm-${run}-${k}`;
    // One external peer per device, so "one live action per (device, action)" is the exact dedupe expectation.
    const alert: AlertJob['alert'] = {
      id, source: 'darktrace', name: b.name, score: b.score, detectedAt: now, receivedAt: now,
      device: { ip: deviceIp(d), hostname: `storm-${d}`, tags: [] },
      peer: { ip: `203.0.113.${(d % 200) + 20}`, port: b.port },
    };
    return { name: 'alert', data: { alert }, opts: { jobId: id } };
  });
}

async function fill(queue: Queue, jobs: ReturnType<typeof alertJobs>, progress: (s: string) => void): Promise<void> {
  for (let i = 0; i < jobs.length; i += 2000) {
    await queue.addBulk(jobs.slice(i, i + 2000));
    if (i % 20_000 === 0) progress(`  queued ${i + Math.min(2000, jobs.length - i)}/${jobs.length}`);
  }
}

async function drained(queue: Queue): Promise<boolean> {
  const c = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
  return Object.values(c).every((v) => v === 0);
}

/** Resolves when the queue is empty, with the time (performance.now()) at which half the jobs were done. */
async function waitDrained(queue: Queue, total: number, progress: (s: string) => void): Promise<number> {
  let last = Date.now();
  let half: number | null = null;
  for (;;) {
    if (await drained(queue)) return half ?? performance.now();
    if (half === null) {
      const c = await queue.getJobCounts('wait', 'active');
      if ((c.wait ?? 0) + (c.active ?? 0) <= total / 2) half = performance.now();
    }
    await new Promise((r) => setTimeout(r, 100));
    if (Date.now() - last > 5000) {
      last = Date.now();
      const c = await queue.getJobCounts('wait', 'active');
      progress(`  ${total - (c.wait ?? 0) - (c.active ?? 0)}/${total} processed`);
    }
  }
}


/** The floor: the same jobs, the same queue options and concurrency, a worker that does nothing. */
async function floor(jobs: ReturnType<typeof alertJobs>, progress: (s: string) => void): Promise<number> {
  const prefix = `{sheriff-bench-floor-${randomBytes(4).toString('hex')}}`;
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUES.alerts, { connection: conn, prefix });
  try {
    await fill(queue, jobs, progress);
    const t = performance.now();
    const worker = new Worker(QUEUES.alerts, async () => undefined, { connection: conn.duplicate(), prefix, concurrency: CONCURRENCY, removeOnComplete: { age: 3600, count: 10_000 } });
    await waitDrained(queue, jobs.length, progress);
    const seconds = (performance.now() - t) / 1000;
    await worker.close();
    return seconds;
  } finally {
    await queue.close();
    await dropPrefix(conn, prefix);
    conn.disconnect();
  }
}

export async function benchStorm(opts: { alerts?: number; mode?: 'passive' | 'active'; progress?: (s: string) => void } = {}): Promise<StormResult> {
  const n = opts.alerts ?? 100_000;
  const mode = opts.mode ?? 'active';
  const progress = opts.progress ?? ((s: string) => console.log(s));
  const run = randomBytes(3).toString('hex');
  const jobs = alertJobs(n, run);

  progress(`storm: floor — ${n} jobs through a do-nothing worker (concurrency ${CONCURRENCY})`);
  const floorSeconds = await floor(jobs, progress);

  const prefix = `{sheriff-bench-storm-${run}}`;
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUES.alerts, { connection: conn, prefix });
  try {
    progress(`storm: sheriff — ${n} alerts about ${DEVICES} devices through decide (${mode} mode, log connector)`);
    await fill(queue, jobs, progress);
    const config = parseConfig({ mode, redis: REDIS_URL, redisPrefix: prefix, playbooks: './playbooks', connectors: { dry: { type: 'log' } }, reconcile: { interval: '1h' } });
    const t = performance.now();
    const sheriff = await startSheriff({ config, role: 'worker', log: createLogger({ level: 'silent' }), reconcileOnStart: false });
    let decideSeconds: number;
    let halfSeconds: number;
    try {
      halfSeconds = (await waitDrained(queue, n, progress) - t) / 1000;
      decideSeconds = (performance.now() - t) / 1000;
    } finally {
      await sheriff.close();
    }
    const failedJobs = await queue.getFailedCount();
    if (failedJobs) for (const j of await queue.getFailed(0, 2)) progress(`  failed job ${j.id}: ${j.failedReason}`);

    // The dedupe check reads the ledger itself, not the service's view of it.
    const ids = await conn.zrange(`${prefix}:idx:all`, 0, -1);
    const records: ActionRecord[] = [];
    for (let i = 0; i < ids.length; i += 1000) {
      const raws = await conn.mget(...ids.slice(i, i + 1000).map((id) => `${prefix}:action:${id}`));
      for (const raw of raws) if (raw) records.push(JSON.parse(raw) as ActionRecord);
    }
    const live = records.filter((r) => liveStates.includes(r.state));
    const perKey = new Map<string, number>();
    for (const r of live) perKey.set(`${r.target.ip}|${r.action}`, (perKey.get(`${r.target.ip}|${r.action}`) ?? 0) + 1);
    const duplicates = [...perKey.values()].filter((c) => c > 1).length;
    const devicesWithAction = new Set(live.map((r) => r.target.ip)).size;
    const audit = await new AuditLog(conn, prefix).verify();
    for (const p of audit.problems.slice(0, 3)) progress(`  audit problem at seq ${p.seq}: ${p.problem}`);
    const decidePerSecond = n / decideSeconds;
    const floorPerSecond = n / floorSeconds;
    return {
      alerts: n, devices: DEVICES, mode, decideSeconds, decidePerSecond, floorSeconds, floorPerSecond,
      ratio: decidePerSecond / floorPerSecond, failedJobs, records: records.length, liveRecords: live.length, duplicates,
      firstHalfPerSecond: n / 2 / halfSeconds, secondHalfPerSecond: n / 2 / Math.max(decideSeconds - halfSeconds, 1e-3),
      auditOk: audit.ok, auditEntries: audit.entries,
      // Every device must have been acted on, nothing may have failed, nothing may be doubled, the audit chain must hold.
      pass: duplicates === 0 && failedJobs === 0 && devicesWithAction === Math.min(DEVICES, n) && audit.ok && audit.entries >= n,
    };
  } finally {
    await queue.close();
    await dropPrefix(conn, prefix);
    conn.disconnect();
  }
}

export function printStorm(r: StormResult): void {
  console.log(`storm (${r.alerts} alerts, ${r.devices} devices, ${r.mode} mode, concurrency ${CONCURRENCY})`);
  console.log(`  sheriff decide        ${Math.round(r.decidePerSecond)} alerts/s (${r.decideSeconds.toFixed(1)} s)`);
  console.log(`  floor: no-op worker   ${Math.round(r.floorPerSecond)} jobs/s (${r.floorSeconds.toFixed(1)} s)`);
  console.log(`  ratio                 ${r.ratio.toFixed(3)}`);
  console.log(`  first / second half   ${Math.round(r.firstHalfPerSecond)} / ${Math.round(r.secondHalfPerSecond)} alerts/s`);
  console.log(`  ledger: ${r.records} records, ${r.liveRecords} live, ${r.duplicates} (device, action) pairs with >1 live action, ${r.failedJobs} failed jobs`);
  console.log(`  audit chain: ${r.auditEntries} entries, verify ${r.auditOk ? 'ok' : 'BROKEN'}`);
  console.log(`  one live action per (device, action), no failed job, every device acted on, audit chain valid: ${r.pass ? 'PASS' : 'FAIL'}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchStorm({ alerts: Number(process.env.STORM_ALERTS ?? 100_000), mode: process.env.STORM_MODE === 'passive' ? 'passive' : 'active' });
  printStorm(r);
  process.exit(r.pass ? 0 : 1);
}
