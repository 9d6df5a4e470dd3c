// The connector contract: what every enforcement point implements and declares about itself.
import type { z } from 'zod';
import type { ActionName, EnforcementStep, Receipt } from './action.js';

export interface ConnectorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface Health {
  ok: boolean;
  detail: string;
}

/** Handed to a connector's factory by the composition root; connectors never reach for globals. */
export interface ConnectorDeps {
  log: ConnectorLogger;
  /** An ioredis client, for connectors that keep state in Redis (the `log` connector). */
  redis?: import('ioredis').Redis;
  /** Redis key prefix shared by the whole deployment. */
  keyPrefix?: string;
}

export interface Connector {
  readonly name: string;
  readonly type: string;
  readonly capabilities: readonly ActionName[];
  /** Creates what the connector owns (chains, sets, filter rules) when absent. Idempotent; never flushes others' state. */
  start(): Promise<void>;
  healthcheck(): Promise<Health>;
  /**
   * Enforces one step. Idempotent: applying the same step twice leaves the state of applying it once;
   * a second apply with a later `expiresAt` moves the enforcement point's own timeout (extend).
   * Throws NotResponsibleError when the device is unknown to this enforcement point,
   * ConnectorError (retryable or not) on failure.
   */
  apply(step: EnforcementStep): Promise<Receipt>;
  /** Optional bulk form of apply, for thousands of entries at once. */
  applyMany?(steps: EnforcementStep[]): Promise<Receipt[]>;
  /** Lifts what a receipt enforced. Reverting something already gone (or unknown) is harmless. */
  revert(receipt: Receipt): Promise<void>;
  /** Is what the receipt describes still enforced? `pending` vendor states are not enforced yet. */
  verify(receipt: Receipt): Promise<boolean>;
  /** Everything sheriff-owned this enforcement point enforces now, as receipts (for reconcile). */
  list(): Promise<Receipt[]>;
  /** Releases sockets and timers. Leaves enforcement in place. */
  close(): Promise<void>;
}

/** One connector implementation, described the same way for every enforcement point. */
export interface ConnectorModule<Options = unknown> {
  type: string;
  description: string;
  capabilities: readonly ActionName[];
  /** Human text: the privileges/permissions/RBAC this connector needs. */
  privileges: string;
  /** Options under `connectors.<name>` (without `type` and `scope`, which the core handles); strict. */
  optionsSchema: z.ZodType<Options>;
  create(name: string, options: Options, deps: ConnectorDeps): Connector;
}
