// Security headers on every response (errors and 404s included); the console's CSP is set by its own route.
import type { FastifyInstance } from 'fastify';

export function installSecurityHeaders(app: FastifyInstance): void {
  // Callback style: this runs on every answer, and an async hook costs a promise per request.
  app.addHook('onSend', (req, reply, payload, done) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    // API answers carry actions, alerts and audit entries: no proxy or browser may keep them.
    if (req.url.startsWith('/v1/') || req.url === '/v1') void reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}
