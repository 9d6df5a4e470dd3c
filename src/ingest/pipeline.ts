// The ingest pipeline: payload items → normalised alerts → dedupe + store + alerts queue (one script, one round trip).
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { NormalisedAlert, SourceName } from '../contracts/alert.js';
import type { Config } from '../config.js';
import { SheriffError } from '../errors.js';
import type { Logger } from '../log.js';
import type { AlertJob } from '../queue/names.js';
import { defaultDeviceLabels } from './alertmanager.js';
import { compileInternal, type NormaliseContext } from './common.js';
import { normaliseItems, type Refused } from './index.js';
import { createJobInserter } from './job-insert.js';
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

/** Finished jobs stay a while for inspection; the dedupe key, not the job id, is what stops re-deliveries. */
export const alertJobOptions = { removeOnComplete: { age: 3600, count: 10_000 }, removeOnFail: { age: 7 * 86_400 } };

const unavailable = (err: unknown) => new SheriffError('QUEUE_UNAVAILABLE', 'Redis is unreachable; the alerts were not accepted — retry later', { cause: err });

export function createIngestPipeline(deps: PipelineDeps) {
  const { config, queue, log } = deps;
  const internal = compileInternal(config.ingest.internal);
  const deviceLabels = config.sources.alertmanager?.deviceLabels ?? [...defaultDeviceLabels];
  const inserter = createJobInserter(queue);
  const store = deps.store ?? new AlertStore(deps.redis, config.redisPrefix, {
    retentionMs: config.ingest.retention, dedupeWindowMs: config.ingest.dedupeWindow,
  });

  function normalise(source: SourceName, items: unknown[], receivedAt = new Date().toISOString()) {
    const ctx: NormaliseContext = { receivedAt, internal, deviceLabels };
    return normaliseItems(source, items, ctx);
  }

  /**
   * Stores and queues the accepted alerts in one atomic script (see job-insert.ts); a 2xx may follow only when
   * this resolves. There is nothing to roll back: either the script ran (alerts stored and jobs queued) or not.
   */
  async function commit(alerts: { index: number; alert: NormalisedAlert }[], replayToken?: string): Promise<'replayed' | Accepted[]> {
    let flags: 'replayed' | boolean[];
    try {
      const jobs = await Promise.all(alerts.map(({ alert }) => {
        const { raw: _raw, ...rest } = alert;
        const data: AlertJob = { alert: rest };
        return inserter.args(alert.source, data, { jobId: alert.id, ...alertJobOptions });
      }));
      flags = await store.commit(alerts.map((a) => a.alert), replayToken ? { token: replayToken, ttlMs: 2 * SIGNATURE_WINDOW_S * 1000 } : undefined, undefined, { inserter, jobs });
    } catch (err) {
      if (/SHERIFF_ENQUEUE_FAILED/.test((err as Error).message)) log.error({ err }, 'BullMQ job add failed inside the commit script; the alert was not stored');
      throw unavailable(err);
    }
    if (flags === 'replayed') return 'replayed';
    return alerts.map((a, i) => ({ index: a.index, id: a.alert.id, duplicate: !flags[i] }));
  }

  return { normalise, commit, store };
}
export type IngestPipeline = ReturnType<typeof createIngestPipeline>;
