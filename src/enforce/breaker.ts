// Per-connector circuit breaker: after N consecutive retryable failures, calls fail fast until a cool-down passes.
import { Gauge } from 'prom-client';
import type { Connector } from '../contracts/connector.js';
import { ConnectorError, NotResponsibleError, isRetryable } from '../errors.js';
import { registry } from '../metrics.js';

export interface BreakerOptions {
  /** Consecutive retryable failures that open the breaker. */
  failures: number;
  /** How long an open breaker refuses calls before it lets one trial call through (half-open). */
  coolDownMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerEvents {
  onOpen?(connector: string, info: { failures: number; until: number; lastError: string }): void;
  onClose?(connector: string, info: { openForMs: number }): void;
}

// One gauge per process: several sheriffs (tests) in one process share it, labelled by connector name.
const openGauge = new Gauge({
  name: 'sheriff_connector_breaker_open',
  help: '1 while the circuit breaker of a connector is open or half-open (calls fail fast), 0 when closed',
  labelNames: ['connector'],
  registers: [registry],
});

export class CircuitBreaker {
  private consecutive = 0;
  private openedAt = 0;
  private until = 0;
  private trialInFlight = false;
  private opened = false;

  constructor(readonly connector: string, private readonly o: BreakerOptions, private readonly events: BreakerEvents = {}) {
    openGauge.set({ connector }, 0);
  }

  state(now = Date.now()): BreakerState {
    if (!this.opened) return 'closed';
    return now >= this.until ? 'half-open' : 'open';
  }

  /** Runs a backend call through the breaker; an open breaker throws a retryable error without calling it. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    let trial = false;
    if (this.opened) {
      // Half-open lets exactly one call probe the backend; the rest keep failing fast until it reports.
      if (Date.now() < this.until || this.trialInFlight) throw this.fastFail();
      this.trialInFlight = true;
      trial = true;
    }
    try {
      const result = await call();
      this.success();
      return result;
    } catch (err) {
      // A non-retryable answer (refused, not responsible) still proves the backend is up.
      if (err instanceof NotResponsibleError || !isRetryable(err)) this.success();
      else this.failure(err);
      throw err;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }

  private fastFail(): ConnectorError {
    const retryAt = Math.max(this.until, Date.now() + 100);
    return new ConnectorError(this.connector, 'CONNECTOR_UNAVAILABLE',
      `circuit breaker open after ${this.o.failures} consecutive failures; not calling the backend until ${new Date(this.until).toISOString()}`,
      { retryable: true, retryAt });
  }

  private success(): void {
    this.consecutive = 0;
    if (!this.opened) return;
    this.opened = false;
    openGauge.set({ connector: this.connector }, 0);
    this.events.onClose?.(this.connector, { openForMs: Date.now() - this.openedAt });
  }

  private failure(err: unknown): void {
    this.consecutive += 1;
    if (this.opened) {
      // The half-open trial failed: stay open for another cool-down (no second "open" event).
      this.until = Date.now() + this.o.coolDownMs;
      return;
    }
    if (this.consecutive < this.o.failures) return;
    this.opened = true;
    this.openedAt = Date.now();
    this.until = this.openedAt + this.o.coolDownMs;
    openGauge.set({ connector: this.connector }, 1);
    this.events.onOpen?.(this.connector, {
      failures: this.consecutive, until: this.until, lastError: err instanceof Error ? err.message : String(err),
    });
  }
}

/** The connector with apply/applyMany/revert going through the breaker; everything else passes straight through. */
export function withBreaker(connector: Connector, breaker: CircuitBreaker): Connector {
  const guarded = new Set<PropertyKey>(['apply', 'applyMany', 'revert']);
  return new Proxy(connector, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (!guarded.has(prop) || typeof value !== 'function') return value;
      return (...args: unknown[]) => breaker.run(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    },
  });
}
