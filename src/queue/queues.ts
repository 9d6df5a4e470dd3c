// BullMQ queues (producers) and job payloads for enforce and expire; one place for their options.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { QUEUES } from './names.js';

export const EnforceJob = z.object({
  actionId: z.string(),
  op: z.enum(['apply', 'revert']),
  final: z.enum(['reverted', 'expired']).optional(),
  /** Re-apply an active action (its expiry moved); a plain apply of an already active action is a re-delivery and does nothing. */
  refresh: z.boolean().optional(),
  by: z.string(),
  note: z.string().default(''),
});
export type EnforceJob = z.infer<typeof EnforceJob>;

export const ExpireJob = z.object({ actionId: z.string(), kind: z.enum(['ttl', 'approval']) });
export type ExpireJob = z.infer<typeof ExpireJob>;

export const ENFORCE_ATTEMPTS = 8;

export class Queues {
  readonly alerts: Queue;
  readonly enforce: Queue;
  readonly expire: Queue;

  constructor(connection: Redis, readonly prefix: string) {
    const opts = { connection, prefix };
    this.alerts = new Queue(QUEUES.alerts, opts);
    this.enforce = new Queue(QUEUES.enforce, {
      ...opts,
      defaultJobOptions: {
        attempts: ENFORCE_ATTEMPTS,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: { age: 7 * 86400 },
      },
    });
    this.expire = new Queue(QUEUES.expire, {
      ...opts,
      defaultJobOptions: { attempts: 20, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: true, removeOnFail: { age: 7 * 86400 } },
    });
    // Connection errors are reported (rate-limited) by the connection itself; without a listener BullMQ prints
    // every reconnect attempt's stack to stderr.
    for (const q of [this.alerts, this.enforce, this.expire]) q.on('error', () => undefined);
  }

  /** One apply job per action at a time: a job delivered twice still applies once (and apply is idempotent). */
  async enqueueApply(actionId: string, by: string, note = '', refresh = false): Promise<void> {
    const jobId = refresh ? `refresh-${actionId}-${Date.now()}` : `apply-${actionId}`;
    await this.enforce.add('apply', { actionId, op: 'apply', by, note, ...(refresh ? { refresh } : {}) } satisfies EnforceJob, { jobId });
  }

  async enqueueRevert(actionId: string, by: string, note: string, final: 'reverted' | 'expired'): Promise<void> {
    await this.enforce.add('revert', { actionId, op: 'revert', final, by, note } satisfies EnforceJob, { jobId: `revert-${actionId}` });
  }

  /** Schedules (or moves) the expiry of an action; extend moves the one delayed job instead of adding another. */
  async scheduleExpiry(actionId: string, at: number, kind: ExpireJob['kind'] = 'ttl'): Promise<void> {
    const jobId = `${kind === 'ttl' ? 'exp' : 'apx'}-${actionId}`;
    const delay = Math.max(0, at - Date.now());
    const existing = await this.expire.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state === 'delayed') {
        await existing.changeDelay(delay);
        return;
      }
      if (state === 'active') return; // the running expiry re-reads expiresAt and reschedules if it moved
      await existing.remove().catch(() => undefined);
    }
    await this.expire.add(kind, { actionId, kind } satisfies ExpireJob, { jobId, delay });
  }

  async close(): Promise<void> {
    await Promise.all([this.alerts.close(), this.enforce.close(), this.expire.close()]);
  }
}
