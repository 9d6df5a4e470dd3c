// BullMQ workers: decide (alerts), enforce (apply/revert with back-off), expire (TTL and approval timeouts).
import { hostname } from 'node:os';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Enforcer } from '../enforce/enforcer.js';
import { SheriffError } from '../errors.js';
import type { Ledger } from '../ledger/store.js';
import type { Logger } from '../log.js';
import { AlertJob, QUEUES, alertRetention } from './names.js';
import { EnforceJob, ExpireJob } from './queues.js';

export interface WorkerDeps {
  connection: Redis;
  prefix: string;
  log: Logger;
  ledger: Ledger;
  enforcer: Enforcer;
  decide: (job: AlertJob) => Promise<void>;
  concurrency?: { alerts?: number; enforce?: number; expire?: number };
  /** Lock and stall settings (config.workers); BullMQ's defaults otherwise. */
  stall?: { lockDuration: number; stalledInterval: number; maxStalledCount: number };
  /**
   * The ingest dedupe window (ms). Alert jobs (id = alert id) must be gone before it ends, or a re-delivery after
   * the window would be stored and answered 202 while BullMQ drops the add as a duplicate job id.
   */
  dedupeWindowMs?: number;
}

export interface RunningWorkers {
  workers: Worker[];
  running(): boolean;
  close(): Promise<void>;
}

function lastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/** A connector that named a time to come back (429 Retry-After): wait until then instead of the usual back-off. */
async function honourRetryAt(job: Job, token: string | undefined, err: unknown): Promise<void> {
  if (err instanceof SheriffError && err.retryAt && err.retryAt > Date.now() && !lastAttempt(job)) {
    await job.updateData({ ...job.data, retryAtHonoured: (job.data.retryAtHonoured ?? 0) + 1 });
    if ((job.data.retryAtHonoured ?? 0) < 10) {
      await job.moveToDelayed(err.retryAt, token);
      throw new DelayedError();
    }
  }
  throw err;
}

export function startWorkers(d: WorkerDeps): RunningWorkers {
  // The name is stored on each job as processedBy: which process ran it (scale-out, crash forensics).
  const base = { connection: d.connection, prefix: d.prefix, name: `${hostname()}:${process.pid}`, ...d.stall };
  const alerts = new Worker(QUEUES.alerts, async (job) => {
    await d.decide(AlertJob.parse(job.data));
  }, { ...base, concurrency: d.concurrency?.alerts ?? 32, ...alertRetention(d.dedupeWindowMs ?? 86_400_000) });

  const enforce = new Worker(QUEUES.enforce, async (job, token) => {
    const data = EnforceJob.parse(job.data);
    try {
      if (data.op === 'apply') await d.enforcer.apply(data.actionId, data.by, lastAttempt(job), data.refresh ?? false);
      else await d.enforcer.revert(data.actionId, data.by, data.note, data.final ?? 'reverted', lastAttempt(job));
    } catch (err) {
      await honourRetryAt(job, token, err);
    }
  }, { ...base, concurrency: d.concurrency?.enforce ?? 16 });

  const expire = new Worker(QUEUES.expire, async (job, token) => {
    const data = ExpireJob.parse(job.data);
    const record = await d.ledger.get(data.actionId);
    if (!record) return;
    if (data.kind === 'approval') {
      if (record.state === 'pending_approval') await d.enforcer.revert(record.id, 'system', 'approval request expired', 'expired');
      return;
    }
    const at = record.expiresAt ? Date.parse(record.expiresAt) : 0;
    if (at > Date.now() + 500) {
      // Extended while this job was already running: follow the new expiry.
      await job.moveToDelayed(at, token);
      throw new DelayedError();
    }
    if (['active', 'enforcing', 'failed', 'simulated', 'reverting'].includes(record.state)) {
      await d.enforcer.revert(record.id, 'system', 'time limit reached', 'expired', lastAttempt(job));
    }
  }, { ...base, concurrency: d.concurrency?.expire ?? 8 });

  const workers = [alerts, enforce, expire];
  for (const w of workers) {
    w.on('failed', (job, err) => d.log.warn({ queue: w.name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed'));
    w.on('error', (err) => d.log.debug({ queue: w.name, err: err.message }, 'worker error'));
  }
  return {
    workers,
    running: () => workers.every((w) => w.isRunning()),
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
