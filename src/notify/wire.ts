// Wires notifications into a running sheriff: the producer everywhere, the delivery worker in worker roles.
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { startNotifyWorker } from './deliver.js';
import { createNotifier, type Notifier, type NotifierDeps } from './notifier.js';

export interface Notifications {
  notifier: Notifier;
  worker: Worker | null;
  close(): Promise<void>;
}

export function startNotifications(o: { config: Config; connection: Redis; log: Logger; deliver: boolean } & Pick<NotifierDeps, 'backoffMs' | 'attempts'>): Notifications {
  const notifier = createNotifier(o);
  for (const t of o.config.notify) {
    if (t.type === 'webhook' && !t.secret) o.log.warn({ url: new URL(t.url).host }, 'notify webhook without a secret: its deliveries are unsigned');
  }
  const worker = o.deliver && o.config.notify.length ? startNotifyWorker(o) : null;
  return {
    notifier, worker,
    async close() {
      await notifier.close();
      if (worker) await worker.close();
    },
  };
}
