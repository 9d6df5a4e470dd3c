// POST /v1/alerts/:source — detector webhooks: auth, parse, normalise, dedupe, store, queue; 202 only when queued.
import type { Queue } from 'bullmq';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { SourceName, sourceNames } from '../../contracts/alert.js';
import type { Config } from '../../config.js';
import { SheriffError } from '../../errors.js';
import { parseItems } from '../../ingest/body.js';
import { alertsIngested, ingestDuration, setQueueDepthSource } from '../../ingest/metrics.js';
import { createIngestPipeline, type IngestPipeline } from '../../ingest/pipeline.js';
import type { AlertStore } from '../../ingest/store.js';
import { createSourceAuth } from '../../ingest/webhook-auth.js';
import type { Logger } from '../../log.js';

export interface IngestDeps {
  config: Pick<Config, 'ingest' | 'sources' | 'redisPrefix'>;
  redis: Redis;
  /** The alerts queue (QUEUES.alerts, prefix config.redisPrefix). */
  queue: Queue;
  log: Logger;
  store?: AlertStore;
  /** Injectable clock (seconds) for the signature window. */
  nowS?: () => number;
}

type SourceRequest = FastifyRequest<{ Params: { source: string } }>;

export function ingestRoutes(deps: IngestDeps): FastifyPluginAsync {
  const pipeline: IngestPipeline = createIngestPipeline(deps);
  const auth = createSourceAuth(deps.config);
  const nowS = deps.nowS ?? (() => Math.floor(Date.now() / 1000));
  const bodyLimit = deps.config.ingest.bodyLimit;

  return async (app) => {
    // Scoped to this plugin: the raw bytes are needed for the HMAC, and only these two types are accepted.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(['application/json', 'application/x-ndjson'], { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

    setQueueDepthSource(async () => {
      const counts = await deps.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    });
    app.addHook('onClose', async () => setQueueDepthSource(undefined));

    app.post('/v1/alerts/:source', {
      bodyLimit,
      // Decided before the body is read: unknown sources and sources nobody configured cost nothing.
      onRequest: (req: SourceRequest, _reply, done) => {
        const parsed = SourceName.safeParse(req.params.source);
        if (!parsed.success) return done(new SheriffError('NOT_FOUND', `unknown source "${req.params.source.slice(0, 40)}" (known: ${sourceNames.join(', ')})`));
        if (!auth.configured(parsed.data)) {
          alertsIngested.inc({ source: parsed.data, outcome: 'unauthorized' });
          return done(new SheriffError('UNAUTHORIZED', `source ${parsed.data} has no secret or token configured (sources.${parsed.data}); set one, or allowUnauthenticated: true`));
        }
        done();
      },
    }, async (req: SourceRequest, reply) => {
      const end = ingestDuration.startTimer();
      const source = req.params.source as SourceName;
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const verdict = auth.verify(source, req.headers, raw, nowS());
      if (!verdict.ok) {
        alertsIngested.inc({ source, outcome: 'unauthorized' });
        throw new SheriffError('UNAUTHORIZED', verdict.reason);
      }
      const ndjson = (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-ndjson');
      const items = parseItems(raw, ndjson);
      const batch = pipeline.normalise(source, items);
      if (batch.refused.length) alertsIngested.inc({ source, outcome: 'refused' }, batch.refused.length);
      if (batch.alerts.length === 0) {
        const only = batch.refused.length === 1 ? batch.refused[0] : undefined;
        throw new SheriffError('VALIDATION', only ? only.reason : `none of the ${batch.refused.length} alerts was accepted`, {
          details: { refused: batch.refused },
        });
      }
      let accepted;
      try {
        accepted = await pipeline.commit(batch.alerts, verdict.replayKey);
      } catch (err) {
        alertsIngested.inc({ source, outcome: 'unavailable' }, batch.alerts.length);
        req.log.warn({ err: (err as Error).cause ?? err, source }, 'alerts not accepted by Redis');
        throw err;
      }
      if (accepted === 'replayed') {
        alertsIngested.inc({ source, outcome: 'unauthorized' });
        throw new SheriffError('UNAUTHORIZED', 'this signature was already used (replay); sign every delivery afresh');
      }
      const dup = accepted.filter((a) => a.duplicate).length;
      if (dup) alertsIngested.inc({ source, outcome: 'duplicate' }, dup);
      if (accepted.length - dup) alertsIngested.inc({ source, outcome: 'accepted' }, accepted.length - dup);
      end({ source });
      return reply.status(202).send({
        ids: accepted.map((a) => a.id),
        accepted,
        refused: batch.refused,
      });
    });
  };
}
