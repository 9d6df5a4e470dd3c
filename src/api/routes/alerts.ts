// GET /v1/alerts and /v1/alerts/:id — stored normalised alerts with their raw payloads, for viewers and up.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { hostIp, parseDuration } from '../../contracts/net.js';
import { SheriffError } from '../../errors.js';
import type { AlertStore } from '../../ingest/store.js';
import { createOperatorAuth } from '../auth.js';

export interface AlertRoutesDeps {
  config: Pick<Config, 'auth'>;
  store: AlertStore;
  now?: () => number;
}

/** `since`: an ISO time, epoch milliseconds, or a duration back from now (e.g. 1h). */
function sinceMs(text: string, now: number): number | undefined {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const back = parseDuration(text);
  if (back !== null) return now - back;
  const t = text.length <= 40 ? Date.parse(text) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

export const ListQuery = z.object({
  device: hostIp.optional(),
  since: z.string().max(40).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(400).regex(/^[A-Za-z0-9_-]+$/).optional(),
}).strict();

export function alertRoutes(deps: AlertRoutesDeps): FastifyPluginAsync {
  const viewer = createOperatorAuth(deps.config).requireRole('viewer');
  const now = deps.now ?? Date.now;
  return async (app) => {
    app.get('/v1/alerts', { preHandler: viewer }, async (req) => {
      const q = ListQuery.parse(req.query);
      const since = q.since === undefined ? undefined : sinceMs(q.since, now());
      if (q.since !== undefined && since === undefined) {
        throw new SheriffError('VALIDATION', `since "${q.since}" is not a time (use ISO 8601, epoch ms or a duration such as 1h)`);
      }
      return deps.store.list({ device: q.device, since, limit: q.limit, cursor: q.cursor });
    });

    app.get<{ Params: { id: string } }>('/v1/alerts/:id', { preHandler: viewer }, async (req) => {
      const alert = await deps.store.get(req.params.id);
      if (!alert) throw new SheriffError('NOT_FOUND', `no alert ${req.params.id.slice(0, 80)} (unknown or older than the retention)`);
      return alert;
    });
  };
}
