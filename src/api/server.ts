// buildServer(deps): the Fastify app with every route plugin registered; it never listens by itself.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from "fastify";
import { ZodError } from 'zod';
import { SheriffError } from '../errors.js';
import type { Logger } from '../log.js';
import type { HttpLimits } from '../config.js';
import { installRateLimit } from './rate-limit.js';
import { installSecurityHeaders } from './security-headers.js';
import { installRouteIndex } from './route-index.js';

export interface ServerOptions {
  log: Logger;
  bodyLimit: number;
  /** Route plugins, registered in order; each gets its own dependencies through a closure. */
  plugins: FastifyPluginAsync[];
  /** Per-client rate limits; `identify` names the operator behind a bearer token (undefined: not a valid one). */
  rateLimit?: { limits: HttpLimits; identify: (token: string | undefined) => string | undefined };
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.log.child({ component: "http" }) as unknown as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof SheriffError) {
      if ((err.code === 'QUEUE_UNAVAILABLE' || err.code === 'RATE_LIMITED') && !reply.hasHeader('retry-after')) void reply.header('retry-after', '5');
      return reply.status(err.status).send(err.toJSON());
    }
    if (err instanceof ZodError) {
      return reply.status(400).send({ error: { code: 'VALIDATION', message: 'The request is invalid', details: err.issues } });
    }
    const e = err as { statusCode?: number; code?: string; message: string; name?: string };
    if (isRedisDown(err)) {
      void reply.header('retry-after', '5');
      return reply.status(503).send(new SheriffError('QUEUE_UNAVAILABLE', 'Redis is unreachable; retry later').toJSON());
    }
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send(new SheriffError('PAYLOAD_TOO_LARGE', `the body is over ${opts.bodyLimit} bytes`).toJSON());
    }
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send(new SheriffError('UNSUPPORTED_MEDIA_TYPE', 'send application/json or application/x-ndjson').toJSON());
    }
    if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError) {
      return reply.status(400).send(new SheriffError('INVALID_JSON', e.message).toJSON());
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.status(e.statusCode).send({ error: { code: e.code ?? 'VALIDATION', message: e.message } });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send(new SheriffError('INTERNAL', 'internal error; see the server log').toJSON());
  });

  app.setNotFoundHandler((req, reply) => reply.status(404).send(new SheriffError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`).toJSON()));

  installRouteIndex(app);
  installSecurityHeaders(app);
  if (opts.rateLimit) installRateLimit(app, opts.rateLimit.limits, opts.rateLimit.identify);

  for (const plugin of opts.plugins) await app.register(plugin);
  // After the plugins, so a route recorder registered first (the OpenAPI document) sees this route too.
  app.get('/healthz', async () => ({ ok: true }));
  return app;
}

/** ioredis errors that mean "Redis is away": answered 503, never 500. */
export function isRedisDown(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string } | null;
  if (!e) return false;
  return e.name === 'MaxRetriesPerRequestError'
    || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(e.code ?? '')
    || /Stream isn't writeable|Connection is closed|connect ECONNREFUSED/.test(e.message ?? '');
}
