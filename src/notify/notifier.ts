// Notification producer: turns an action event into one queued job per configured target; never blocks or throws.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ActionRecord } from '../contracts/action.js';
import type { Config } from '../config.js';
import type { ActionEvent } from '../control/service.js';
import type { Logger } from '../log.js';
import { QUEUES } from '../queue/names.js';
import { EventDetails, NotifyJob, actionLink, headline, summarise, targetId } from './message.js';

export const NOTIFY_ATTEMPTS = 10;

export interface NotifierDeps {
  config: Pick<Config, 'notify' | 'publicUrl' | 'listen' | 'redisPrefix'>;
  connection: Redis;
  log: Logger;
  /** First retry delay; doubles per attempt (tests shorten it). */
  backoffMs?: number;
  attempts?: number;
}

export interface Notifier {
  /** Fire-and-forget: returns at once; enqueue errors are logged, never thrown into the caller (enforcement). */
  emit(event: ActionEvent, record: ActionRecord | null, extra?: Record<string, unknown>): void;
  /** Resolves when every enqueue started so far has settled (tests, shutdown). */
  flush(): Promise<void>;
  readonly queue: Queue | null;
  close(): Promise<void>;
}

export function buildJobs(config: NotifierDeps['config'], event: ActionEvent, record: ActionRecord | null, extra: Record<string, unknown> = {}, now = Date.now()): NotifyJob[] {
  const action = record ? summarise(record) : null;
  const details = EventDetails.parse(Object.fromEntries(Object.entries(extra).filter(([k]) => k in EventDetails.shape)));
  const text = headline(event, action, details);
  const link = actionLink(config, record?.id ?? null);
  return config.notify.map((t) => NotifyJob.parse({ target: targetId(t), event, at: new Date(now).toISOString(), action, details, link, text }));
}

export function createNotifier(d: NotifierDeps): Notifier {
  const log = d.log.child({ component: 'notify' });
  if (!d.config.notify.length) {
    return { emit: () => undefined, flush: async () => undefined, queue: null, close: async () => undefined };
  }
  const queue = new Queue(QUEUES.notify, {
    connection: d.connection,
    prefix: d.config.redisPrefix,
    defaultJobOptions: {
      attempts: d.attempts ?? NOTIFY_ATTEMPTS,
      backoff: { type: 'exponential', delay: d.backoffMs ?? 2000 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 7 * 86400, count: 10_000 },
    },
  });
  queue.on('error', () => undefined); // the connection reports Redis trouble (src/redis.ts)
  const inFlight = new Set<Promise<void>>();
  return {
    queue,
    emit(event, record, extra) {
      let jobs: NotifyJob[];
      try {
        jobs = buildJobs(d.config, event, record, extra);
      } catch (err) {
        log.error({ err: (err as Error).message, event }, 'notification not built');
        return;
      }
      const p = queue.addBulk(jobs.map((data) => ({ name: data.event, data })))
        .then(() => undefined, (err: Error) => log.error({ err: err.message, event, actionId: record?.id }, 'notification not queued'));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    },
    async flush() {
      await Promise.all([...inFlight]);
    },
    async close() {
      // With Redis away an enqueue waits for it forever; shutdown waits a little, not forever.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...inFlight]), new Promise((r) => { timer = setTimeout(r, 2000); })]);
      clearTimeout(timer);
      await queue.close();
    },
  };
}
