// In-memory token buckets per client for the HTTP API and webhooks; answers 429 with Retry-After when empty.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpLimits } from '../config.js';
import { SheriffError } from '../errors.js';
import { bearer } from './auth.js';

interface Bucket { tokens: number; at: number }
type Limit = HttpLimits['api'];

const MAX_CLIENTS = 50_000;
const EXEMPT = new Set(['/healthz', '/readyz']);

/** A token bucket per key: `burst` capacity, refilled at `perMinute`. perMinute 0 turns the limit off. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limit: Limit) {}

  /** Takes one token; returns 0 when allowed, else the seconds until a token is back. */
  take(key: string, now = Date.now()): number {
    if (this.limit.perMinute === 0) return 0;
    const perMs = this.limit.perMinute / 60_000;
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, at: now };
    b.tokens = Math.min(this.limit.burst, b.tokens + (now - b.at) * perMs);
    b.at = now;
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= MAX_CLIENTS) this.evict(now);
      this.buckets.set(key, b);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
  }

  /** Forgets clients whose bucket has refilled (they lose nothing); a flood of fresh keys cannot grow memory forever. */
  private evict(now: number): void {
    const perMs = this.limit.perMinute / 60_000;
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * perMs >= this.limit.burst) this.buckets.delete(k);
    if (this.buckets.size >= MAX_CLIENTS) this.buckets.clear();
  }
}

/**
 * An onRequest hook on the root instance: webhooks per (source, IP), operators per valid token, anyone else per IP.
 * `identify` maps a bearer token to the operator's name, or undefined when it is not a valid operator token.
 */
export function installRateLimit(app: FastifyInstance, limits: HttpLimits, identify: (token: string | undefined) => string | undefined): void {
  const webhooks = new TokenBuckets(limits.webhooks);
  const api = new TokenBuckets(limits.api);
  const anonymous = new TokenBuckets(limits.anonymous);
  const pick = (req: FastifyRequest): [TokenBuckets, string] | null => {
    const path = req.url.split('?')[0] ?? '';
    if (EXEMPT.has(path)) return null;
    if (req.method === 'POST' && path.startsWith('/v1/alerts/')) return [webhooks, `${path}|${req.ip}`];
    const who = identify(bearer(req));
    return who ? [api, `token:${who}`] : [anonymous, `ip:${req.ip}`];
  };
  app.addHook('onRequest', async (req, reply) => {
    const p = pick(req);
    if (!p) return;
    const wait = p[0].take(p[1]);
    if (wait > 0) {
      void reply.header('retry-after', String(wait));
      throw new SheriffError('RATE_LIMITED', `too many requests from this client; retry in ${wait} s`);
    }
  });
}
