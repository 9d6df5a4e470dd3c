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
import { AlertStore, type Delivery } from './store.js';
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

/** Flushes running at once: one collects the next batch while the other is in Redis. */
const MAX_FLUSHES_IN_FLIGHT = 2;
/** A flush carries at most this many alerts (one delivery may exceed it alone). */
const MAX_ALERTS_PER_FLUSH = 512;

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

  // Group commit: POSTs that arrive while a flush is in flight go together in the next one — one store script and
  // one queue round trip for all of them instead of two per POST. Nothing waits for company: an idle pipeline
  // flushes at once, so a lone POST pays no delay.
  interface Waiting { delivery: Delivery; resolve: (r: 'replayed' | Accepted[]) => void; reject: (e: unknown) => void; indexes: number[] }
  let waiting: Waiting[] = [];
  let inFlight = 0;

  async function flush(batch: Waiting[]): Promise<void> {
    let answers: Array<'replayed' | boolean[]>;
    try {
      answers = await store.commitMany(batch.map((w) => w.delivery));
    } catch (err) {
      for (const w of batch) w.reject(unavailable(err));
      return;
    }
    const fresh: NormalisedAlert[] = [];
    const freedTokens: string[] = [];
    batch.forEach((w, g) => {
      const flags = answers[g];
      if (flags === 'replayed' || !flags) return;
      w.delivery.alerts.forEach((alert, i) => { if (flags[i]) fresh.push(alert); });
      if (w.delivery.replay) freedTokens.push(w.delivery.replay.token);
    });
    if (fresh.length) {
      try {
        const jobs = fresh.map((alert) => {
          const { raw: _raw, ...rest } = alert;
          const data: AlertJob = { alert: rest };
          return { name: alert.source, data, opts: { jobId: alert.id, ...jobOptions } };
        });
        const only = jobs.length === 1 ? jobs[0] : undefined;
        if (only) await queue.add(only.name, only.data, only.opts);
        else await queue.addBulk(jobs);
      } catch (err) {
        await store.rollback(fresh, freedTokens).catch((e: unknown) => {
          // The stored copies stay listed until retention ends; a retry is still accepted (the commit script sees no job).
          log.warn({ err: e, ids: fresh.map((a) => a.id) }, 'queue add failed and the stored alerts could not be removed; a retry will be accepted');
        });
        for (const w of batch) w.reject(unavailable(err));
        return;
      }
    }
    batch.forEach((w, g) => {
      const flags = answers[g];
      if (flags === 'replayed' || !flags) w.resolve('replayed');
      else w.resolve(w.delivery.alerts.map((alert, i) => ({ index: w.indexes[i] as number, id: alert.id, duplicate: !flags[i] })));
    });
  }

  // Alert ids in a flush that has not finished. A delivery naming one waits for that flush: until its queue add is
  // done the commit script would take the alert for one whose add was lost, and answer "new" instead of "duplicate".
  const busy = new Map<string, number>();
  const hold = (ids: string[], d: 1 | -1) => {
    for (const id of ids) {
      const n = (busy.get(id) ?? 0) + d;
      if (n > 0) busy.set(id, n);
      else busy.delete(id);
    }
  };

  function pump(): void {
    while (waiting.length && inFlight < MAX_FLUSHES_IN_FLIGHT) {
      const batch: Waiting[] = [];
      const rest: Waiting[] = [];
      let n = 0;
      for (const w of waiting) {
        const fits = batch.length === 0 || n + w.delivery.alerts.length <= MAX_ALERTS_PER_FLUSH;
        if (fits && !w.delivery.alerts.some((a) => busy.has(a.id))) {
          batch.push(w);
          n += w.delivery.alerts.length;
        } else {
          rest.push(w);
        }
      }
      if (!batch.length) return; // everything waiting names an alert in flight: the flush's end pumps again
      waiting = rest;
      const ids = batch.flatMap((w) => w.delivery.alerts.map((a) => a.id));
      hold(ids, 1);
      inFlight++;
      // flush settles every delivery itself; the catch is for a bug, so no POST can hang on one.
      void flush(batch).catch((err: unknown) => { for (const w of batch) w.reject(unavailable(err)); }).finally(() => {
        hold(ids, -1);
        inFlight--;
        pump();
      });
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
