// Notification delivery worker (worker role): posts each job to its target; failures retry with back-off.
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { QUEUES } from '../queue/names.js';
import { NotifyJob, describeTarget, targetId, type NotifyTarget } from './message.js';
import { sendSlack } from './slack.js';
import { sendWebhook } from './webhook.js';

export interface DeliverDeps {
  config: Pick<Config, 'notify' | 'redisPrefix'>;
  connection: Redis;
  log: Logger;
  concurrency?: number;
}

/** Delivers one job; exported so tests can drive it without a queue. */
export async function deliver(targets: ReadonlyMap<string, NotifyTarget>, job: NotifyJob, deliveryId: string): Promise<number> {
  const target = targets.get(job.target);
  if (!target) return 0; // the target left the config since the job was queued: nothing to send it to
  if (target.type === 'slack') return sendSlack(target.url, job, { 'x-sheriff-delivery': deliveryId });
  return sendWebhook(target, job, deliveryId);
}

export function startNotifyWorker(d: DeliverDeps): Worker {
  const log = d.log.child({ component: 'notify' });
  const targets = new Map(d.config.notify.map((t) => [targetId(t), t]));
  const worker = new Worker(QUEUES.notify, async (job: Job) => {
    const data = NotifyJob.parse(job.data);
    const status = await deliver(targets, data, `${job.id ?? 'unknown'}`);
    if (status === 0) log.warn({ target: data.target, event: data.event }, 'notification target no longer configured; dropped');
  }, {
    connection: d.connection,
    prefix: d.config.redisPrefix,
    concurrency: d.concurrency ?? 8,
  });
  worker.on('failed', (job, err) => {
    const t = job ? targets.get((job.data as { target?: string }).target ?? '') : undefined;
    const final = !job || job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError';
    const fields = { target: t ? describeTarget(t) : 'unknown', event: job?.name, attempts: job?.attemptsMade, err: err.message };
    if (final) log.error(fields, 'notification dropped');
    else log.warn(fields, 'notification failed; will retry');
  });
  worker.on('error', (err) => log.debug({ err: err.message }, 'notify worker error'));
  return worker;
}
