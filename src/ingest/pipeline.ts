// The ingest pipeline: payload items → normalised alerts → dedupe + store (one script) → alerts queue (one bulk add).
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { NormalisedAlert, SourceName } from '../contracts/alert.js';
import type { Config } from '../config.js';
import { SheriffError } from '../errors.js';
import type { Logger } from '../log.js';
import { alertRetention, type AlertJob } from '../queue/names.js';
import { defaultDeviceLabels } from './alertmanager.js';
import { compileInternal, type NormaliseContext } from './common.js';
import { normaliseItems, type Refused } from './index.js';
import { AlertStore } from './store.js';
import { SIGNATURE_WINDOW_S } from './webhook-auth.js';

export interface PipelineDeps {
  config: Pick<Config, 'ingest' | 'sources' | 'redisPrefix'>;
  /** A request connection (fails fast when Redis is away, so the answer is 503, not a hang). */
  redis: Redis;
  queue: Queue;
  log: Logger;
  store?: AlertStore;
}

export interface Accepted { index: number; id: string; duplicate: boolean }
export type SubmitResult = { replayed: true } | { replayed: false; accepted: Accepted[]; refused: Refused[] };

// Retried with back-off: a decide that meets a Redis blip must not drop the alert (deciding again is idempotent).
const retryOptions = { attempts: 10, backoff: { type: 'exponential', delay: 1000 } };

const unavailable = (err: unknown) => new SheriffError('QUEUE_UNAVAILABLE', 'Redis is unreachable; the alerts were not accepted — retry later', { cause: err });

export function createIngestPipeline(deps: PipelineDeps) {
  const { config, queue, log } = deps;
  // Jobs must be gone before the dedupe window ends: the dedupe key, not the job id, stops re-deliveries.
  const jobOptions = { ...retryOptions, ...alertRetention(config.ingest.dedupeWindow) };
  const internal = compileInternal(config.ingest.internal);
  const deviceLabels = config.sources.alertmanager?.deviceLabels ?? [...defaultDeviceLabels];
  const store = deps.store ?? new AlertStore(deps.redis, config.redisPrefix, {
    retentionMs: config.ingest.retention, dedupeWindowMs: config.ingest.dedupeWindow,
  });

  function normalise(source: SourceName, items: unknown[], receivedAt = new Date().toISOString()) {
    const ctx: NormaliseContext = { receivedAt, internal, deviceLabels };
    return normaliseItems(source, items, ctx);
  }

  /** Stores and queues the accepted alerts; a 2xx may follow only when this resolves. */
  async function commit(alerts: { index: number; alert: NormalisedAlert }[], replayToken?: string): Promise<'replayed' | Accepted[]> {
    let flags: 'replayed' | boolean[];
    try {
      flags = await store.commit(alerts.map((a) => a.alert), replayToken ? { token: replayToken, ttlMs: 2 * SIGNATURE_WINDOW_S * 1000 } : undefined);
    } catch (err) {
      throw unavailable(err);
    }
    if (flags === 'replayed') return 'replayed';
    const fresh = alerts.filter((_a, i) => flags[i]).map((a) => a.alert);
    if (fresh.length) {
      try {
        const jobs = fresh.map((alert) => {
          const { raw: _raw, ...rest } = alert;
          const data: AlertJob = { alert: rest };
          return { name: alert.source, data, opts: { jobId: alert.id, ...jobOptions } };
        });
        // addBulk wraps its adds in MULTI, which costs ~2.5x a plain add for the common one-alert POST.
        const only = jobs.length === 1 ? jobs[0] : undefined;
        if (only) await queue.add(only.name, only.data, only.opts);
        else await queue.addBulk(jobs);
      } catch (err) {
        await store.rollback(fresh, replayToken).catch((e: unknown) => {
          // The stored copies stay listed until retention ends; a retry is still accepted (the commit script sees no job).
          log.warn({ err: e, ids: fresh.map((a) => a.id) }, 'queue add failed and the stored alerts could not be removed; a retry will be accepted');
        });
        throw unavailable(err);
      }
    }
    return alerts.map((a, i) => ({ index: a.index, id: a.alert.id, duplicate: !flags[i] }));
  }

  return { normalise, commit, store };
}
export type IngestPipeline = ReturnType<typeof createIngestPipeline>;
