// The ingest pipeline: payload items → normalised alerts → dedupe + store (one script) → alerts queue (one bulk add).
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { NormalisedAlert, SourceName } from '../contracts/alert.js';
import type { Config } from '../config.js';
import { SheriffError } from '../errors.js';
import { alertRetention } from '../queue/names.js';
import { defaultDeviceLabels } from './alertmanager.js';
import { compileInternal, type NormaliseContext } from './common.js';
import { normaliseItems, type Refused } from './index.js';
import { prepareJobInsert } from './job-insert.js';
import { AlertStore, type CommitAnswer, type Delivery } from './store.js';
import { SIGNATURE_WINDOW_S } from './webhook-auth.js';

export interface PipelineDeps {
  config: Pick<Config, 'ingest' | 'sources' | 'redisPrefix'>;
  /** A request connection (fails fast when Redis is away, so the answer is 503, not a hang). */
  redis: Redis;
  queue: Queue;
  store?: AlertStore;
}

export interface Accepted { index: number; id: string; duplicate: boolean }
export type SubmitResult = { replayed: true } | { replayed: false; accepted: Accepted[]; refused: Refused[] };

// Retried with back-off: a decide that meets a Redis blip must not drop the alert (deciding again is idempotent).
const retryOptions = { attempts: 10, backoff: { type: 'exponential', delay: 1000 } };

/** Flushes running at once: one collects the next batch while the other is in Redis. */
const MAX_FLUSHES_IN_FLIGHT = 2;
/** A flush carries at most this many alerts (one delivery may exceed it alone). */
const MAX_ALERTS_PER_FLUSH = 512;

/** Alert job options. Jobs must be gone before the dedupe window ends: the dedupe key, not the job, stops re-deliveries. */
export const alertJobOptions = (dedupeWindowMs: number) => ({ ...retryOptions, ...alertRetention(dedupeWindowMs) });

const unavailable = (err: unknown, why = 'Redis is unreachable') => new SheriffError('QUEUE_UNAVAILABLE', `${why}; the alerts were not accepted — retry later`, { cause: err });

export function createIngestPipeline(deps: PipelineDeps) {
  const { config, queue } = deps;
  const jobOptions = alertJobOptions(config.ingest.dedupeWindow);
  const internal = compileInternal(config.ingest.internal);
  const deviceLabels = config.sources.alertmanager?.deviceLabels ?? [...defaultDeviceLabels];
  const store = deps.store ?? new AlertStore(deps.redis, config.redisPrefix, {
    retentionMs: config.ingest.retention, dedupeWindowMs: config.ingest.dedupeWindow,
  });
  const enqueue = prepareJobInsert(queue, jobOptions);

  function normalise(source: SourceName, items: unknown[], receivedAt = new Date().toISOString()) {
    const ctx: NormaliseContext = { receivedAt, internal, deviceLabels };
    return normaliseItems(source, items, ctx);
  }

  // Group commit: POSTs that arrive while a flush is in flight go together in the next one — one script (dedupe,
  // store and BullMQ job add, atomic) for all of them instead of round trips per POST. Nothing waits for company: an
  // idle pipeline flushes at once, so a lone POST pays no delay.
  interface Waiting { delivery: Delivery; resolve: (r: 'replayed' | Accepted[]) => void; reject: (e: unknown) => void; indexes: number[] }
  let waiting: Waiting[] = [];
  let inFlight = 0;

  function settle(batch: Waiting[], answers: CommitAnswer[]): void {
    batch.forEach((w, g) => {
      const flags = answers[g];
      if (flags === 'replayed') w.resolve('replayed');
      else if (!flags || !Array.isArray(flags)) w.reject(unavailable(new Error(`Redis refused an alert: ${flags?.failed ?? 'no answer for this delivery'}`), 'Redis refused to queue an alert of this delivery'));
      else w.resolve(w.delivery.alerts.map((alert, i) => ({ index: w.indexes[i] as number, id: alert.id, duplicate: !flags[i] })));
    });
  }

  function flush(batch: Waiting[]): void {
    inFlight++;
    // The next flush leaves for Redis before this one's answers are written, so Redis works while node answers.
    const release = () => { inFlight--; pump(); };
    store.commitMany(batch.map((w) => w.delivery), { enqueue }).then((answers) => {
      release();
      settle(batch, answers);
    }, (err: unknown) => {
      // Redis did not take the script, or went away before answering; if it ran, the retry finds duplicates.
      release();
      for (const w of batch) w.reject(unavailable(err));
    }).catch((err: unknown) => {
      // A bug in settle: no POST may hang on it (settling twice is a no-op).
      for (const w of batch) w.reject(unavailable(err));
    });
  }

  function pump(): void {
    while (waiting.length && inFlight < MAX_FLUSHES_IN_FLIGHT) {
      const batch: Waiting[] = [];
      let n = 0;
      for (const w of waiting) {
        if (batch.length && n + w.delivery.alerts.length > MAX_ALERTS_PER_FLUSH) break;
        batch.push(w);
        n += w.delivery.alerts.length;
      }
      waiting = waiting.slice(batch.length);
      flush(batch);
    }
  }

  /** Stores and queues the accepted alerts; a 2xx may follow only when this resolves. */
  function commit(alerts: { index: number; alert: NormalisedAlert }[], replayToken?: string): Promise<'replayed' | Accepted[]> {
    return new Promise((resolve, reject) => {
      const delivery: Delivery = { alerts: alerts.map((a) => a.alert), ...(replayToken ? { replay: { token: replayToken, ttlMs: 2 * SIGNATURE_WINDOW_S * 1000 } } : {}) };
      waiting.push({ delivery, resolve, reject, indexes: alerts.map((a) => a.index) });
      pump();
    });
  }

  return { normalise, commit, store };
}
export type IngestPipeline = ReturnType<typeof createIngestPipeline>;
