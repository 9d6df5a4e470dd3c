// Reliability harness: sheriff as separate processes (api + workers) on a private prefix, an alert stream, a worker killer, and evidence readers.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { stringify } from 'yaml';
import { QUEUES } from '../../src/queue/names.js';
import { freePort } from '../helpers/private-redis.js';
import { dropPrefix, testPrefix } from '../helpers/redis.js';
import { SOURCE_TOKEN, TOKENS } from '../helpers/sheriff.js';

export const ALERT_NAME = 'Reliability Test SSH';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One `sheriff serve` process; its output goes to a file in the run directory (read on failure). */
export class SheriffProcess {
  child: ChildProcess | null = null;
  starts = 0;
  /** Every pid this process had (one per start): maps BullMQ's processedBy (host:pid) back to this label. */
  readonly pids: number[] = [];
  private out: WriteStream | null = null;

  constructor(readonly label: string, readonly role: 'api' | 'worker' | 'all', private readonly configPath: string, readonly logPath: string) {}

  start(): void {
    this.starts++;
    this.out = createWriteStream(this.logPath, { flags: 'a' });
    this.out.write(`--- start ${this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', this.configPath, '--role', this.role], {
      cwd: process.cwd(),
      env: { ...process.env, SHERIFF_LOG_LEVEL: process.env.SHERIFF_TEST_LOG ?? 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(this.out, { end: false });
    child.stderr?.pipe(this.out, { end: false });
    this.child = child;
    if (child.pid) this.pids.push(child.pid);
  }

  get pid(): number | undefined { return this.child?.pid; }

  /** Sends the signal and waits for the process to be gone. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await gone;
    this.child = null;
  }

  log(): string {
    try { return readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }
}

export interface RunOptions {
  label: string;
  redisUrl: string;
  connectors: Record<string, unknown>;
  /** TTL of the test playbook's auto action, e.g. '40s'. */
  ttl: string;
  workers: number;
  extraConfig?: Record<string, unknown>;
}

export interface Run {
  prefix: string;
  dir: string;
  url: string;
  api: SheriffProcess;
  workers: SheriffProcess[];
  redis: Redis;
  procs(): SheriffProcess[];
  waitReady(timeoutMs?: number): Promise<void>;
  logs(): string;
  diagnose(): Promise<string>;
  close(): Promise<void>;
}

export async function startRun(o: RunOptions): Promise<Run> {
  const prefix = testPrefix(o.label);
  const dir = mkdtempSync(join(tmpdir(), `sheriff-${o.label}-`));
  const port = await freePort();
  writeFileSync(join(dir, 'playbooks.yaml'), stringify({
    name: 'reliability-ssh',
    description: 'Test playbook: every reliability alert blocks the device\'s SSH egress at once, for a short time.',
    match: { source: ['generic'], name: [ALERT_NAME], device: { cidrs: ['10.0.0.0/8'] } },
    respond: [{ action: 'block-ssh-egress', ttl: o.ttl, approval: 'auto' }],
  }));
  const config = {
    mode: 'active',
    redis: o.redisUrl,
    redisPrefix: prefix,
    listen: `127.0.0.1:${port}`,
    playbooks: join(dir, 'playbooks.yaml'),
    auth: { tokens: Object.entries(TOKENS).map(([role, token]) => ({ name: role, role, token })) },
    sources: { generic: { token: SOURCE_TOKEN } },
    // The run contains a thousand devices on purpose: lift the blast-radius budget out of the way.
    limits: { maxNewPerHour: 1_000_000, maxActive: 1_000_000 },
    reconcile: { interval: '1h' },
    // Short locks so a killed worker's jobs come back within seconds, not BullMQ's default 30 s.
    workers: { lockDuration: '4s', stalledInterval: '2s', maxStalledCount: 50 },
    connectors: o.connectors,
    ...o.extraConfig,
  };
  const configPath = join(dir, 'sheriff.yaml');
  writeFileSync(configPath, stringify(config));
  const api = new SheriffProcess('api', 'api', configPath, join(dir, 'api.log'));
  const workers = Array.from({ length: o.workers }, (_v, i) => new SheriffProcess(`worker${i + 1}`, 'worker', configPath, join(dir, `worker${i + 1}.log`)));
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: false });
  redis.on('error', () => undefined);
  const procs = () => [api, ...workers];
  for (const p of procs()) p.start();
  const url = `http://127.0.0.1:${port}`;
  const logs = () => procs().map((p) => `==== ${p.label} (${p.logPath})\n${p.log().slice(-4000)}`).join('\n');
  /** The logs plus each queue's job counts: where a stuck run's alerts are (waiting, active, delayed, failed). */
  const diagnose = async () => `${logs()}\n==== queues\n${await queueCounts(redis, prefix).catch((err: Error) => `unreadable: ${err.message}`)}`;
  return {
    prefix, dir, url, api, workers, redis, procs,
    async waitReady(timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const ok = await fetch(`${url}/readyz`).then((r) => r.status === 200).catch(() => false);
        // /readyz sees at least one worker; every worker prints its banner once its workers are started.
        if (ok && workers.every((w) => w.log().includes('sheriff worker running'))) return;
        await sleep(200);
      }
      throw new Error(`sheriff did not become ready within ${timeoutMs} ms\n${logs()}`);
    },
    logs,
    diagnose,
    async close() {
      for (const p of procs()) await p.stop('SIGKILL');
      await dropPrefix(redis, prefix).catch(() => undefined);
      redis.disconnect();
      if (!process.env.SHERIFF_KEEP_RUN) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Device i of a run: distinct 10.x addresses (i < 65,000). */
export function deviceFor(base: string, i: number): string {
  const [a, b] = base.split('.');
  return `${a}.${b}.${2 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

export interface StreamResult {
  /** alert id (as answered in the 202) → device ip. */
  accepted: Map<string, string>;
  statuses: Record<string, number>;
  sent: number;
  /** Alerts re-sent after a 503 (a detector retries). */
  retried: number;
}

/**
 * Posts one alert per device (one per request, `concurrency` in flight), paced to last about `durationMs`.
 * A 503 is retried after a pause, as a detector would; any other non-202 is recorded and not retried.
 */
export async function streamAlerts(url: string, devices: string[], o: { runId: string; concurrency: number; durationMs: number; on503RetryMs?: number; onSent?: (n: number) => void }): Promise<StreamResult> {
  const result: StreamResult = { accepted: new Map(), statuses: {}, sent: 0, retried: 0 };
  const start = Date.now();
  let next = 0;
  const one = async (i: number) => {
    const ip = devices[i] as string;
    const body = JSON.stringify({ id: `${o.runId}-${i}`, name: ALERT_NAME, score: 0.9, device: { ip } });
    for (;;) {
      let status: number;
      let json: { ids?: string[] } = {};
      try {
        const res = await fetch(`${url}/v1/alerts/generic`, {
          method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${SOURCE_TOKEN}` },
          signal: AbortSignal.timeout(10_000),
        });
        status = res.status;
        json = await res.json().catch(() => ({})) as { ids?: string[] };
      } catch {
        status = 0; // connection refused / timeout: counted, retried like a 503
      }
      result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      if (status === 202) {
        for (const id of json.ids ?? []) result.accepted.set(id, ip);
        return;
      }
      if (status !== 503 && status !== 0) return;
      result.retried++;
      await sleep(o.on503RetryMs ?? 250);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    while (next < devices.length) {
      const i = next++;
      const due = start + (o.durationMs * i) / devices.length;
      if (due > Date.now()) await sleep(due - Date.now());
      await one(i);
      result.sent++;
      o.onSent?.(result.sent);
    }
  }));
  return result;
}

export interface KillerReport { kills: Array<{ at: number; label: string; pid: number | undefined }> }

/** SIGKILLs the workers in turn every `everyMs`, restarting each after `downMs`, until stopped. */
export function startKiller(workers: SheriffProcess[], o: { everyMs: number; downMs: number; maxKills: number }): { stop(): Promise<KillerReport> } {
  const report: KillerReport = { kills: [] };
  let stopped = false;
  const loop = (async () => {
    let turn = 0;
    while (!stopped && report.kills.length < o.maxKills) {
      await sleep(o.everyMs);
      if (stopped) break;
      const w = workers[turn++ % workers.length] as SheriffProcess;
      report.kills.push({ at: Date.now(), label: w.label, pid: w.pid });
      await w.stop('SIGKILL');
      await sleep(o.downMs);
      w.start();
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return report;
    },
  };
}

/** One line per sheriff queue with its BullMQ job counts. */
export async function queueCounts(redis: Redis, prefix: string): Promise<string> {
  const lines: string[] = [];
  const conn = redis.duplicate({ maxRetriesPerRequest: null });
  conn.on('error', () => undefined);
  try {
    for (const name of Object.values(QUEUES)) {
      const q = new Queue(name, { connection: conn, prefix });
      try {
        lines.push(`${name}: ${JSON.stringify(await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'))} workers=${(await q.getWorkers()).length}`);
      } finally {
        await q.close();
      }
    }
  } finally {
    conn.disconnect();
  }
  return lines.join('\n');
}

// ---- evidence read straight from Redis (the ledger, the audit chain, the queues) ----

export interface AuditRow { seq: number; type: string; by: string; actionId?: string; data: Record<string, unknown>; at: string }
export interface ActionRow { id: string; state: string; target: { ip: string }; expiresAt?: string; enforcedAt?: string; history: Array<{ at: string; state: string; by: string; note: string }>; connectors: Array<{ name: string; status: string }> }

export async function readAudit(redis: Redis, prefix: string): Promise<AuditRow[]> {
  return (await redis.lrange(`${prefix}:audit`, 0, -1)).map((r) => JSON.parse(r) as AuditRow);
}

export async function readActions(redis: Redis, prefix: string): Promise<ActionRow[]> {
  const ids = await redis.zrange(`${prefix}:idx:all`, 0, -1);
  const out: ActionRow[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const raws = await redis.mget(...ids.slice(i, i + 500).map((id) => `${prefix}:action:${id}`));
    for (const r of raws) if (r) out.push(JSON.parse(r) as ActionRow);
  }
  return out;
}

/** alert id → number of `alert.accepted` audit entries for it. */
export function acceptedCounts(audit: AuditRow[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of audit) {
    if (e.type !== 'alert.accepted') continue;
    const id = String(e.data.alertId);
    m.set(id, (m.get(id) ?? 0) + 1);
  }
  return m;
}

/** worker name (host:pid) → jobs it completed, per queue, from BullMQ's processedBy field. */
export async function processedBy(redis: Redis, prefix: string, queues: string[]): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const q of queues) {
    const ids = await redis.zrange(`${prefix}:${q}:completed`, 0, -1);
    for (let i = 0; i < ids.length; i += 500) {
      const pipe = redis.pipeline();
      for (const id of ids.slice(i, i + 500)) pipe.hget(`${prefix}:${q}:${id}`, 'pb');
      for (const [, v] of (await pipe.exec()) ?? []) {
        if (typeof v === 'string') m.set(v, (m.get(v) ?? 0) + 1);
      }
    }
  }
  return m;
}

export async function waitUntil<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs: number, everyMs = 500): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const runId = () => `rel-${randomBytes(4).toString('hex')}`;
