// The `log` connector: records in Redis what it would enforce, with every capability. The default connector.
import { z } from 'zod';
import { actionNames, type EnforcementStep, type Receipt } from '../../src/contracts/action.js';
import type { Connector, ConnectorDeps, ConnectorModule } from '../../src/contracts/connector.js';
import { ConnectorError } from '../../src/errors.js';

export const LOG_CONNECTOR = 'log';

export const LogOptions = z.object({}).strict();
export type LogOptions = z.infer<typeof LogOptions>;

/** One entry per (action, device, action-specific params): the identity a real enforcement point would have. */
export function logKey(step: EnforcementStep): string {
  return `${step.action}|${step.device.ip}|${step.actionId}`;
}

class LogConnector implements Connector {
  readonly type = LOG_CONNECTOR;
  readonly capabilities = actionNames;
  private readonly hashKey: string;

  constructor(readonly name: string, private readonly deps: ConnectorDeps) {
    this.hashKey = `${deps.keyPrefix ?? '{sheriff}'}:log-connector:${name}`;
  }

  private get redis() {
    if (!this.deps.redis) throw new ConnectorError(this.name, 'CONNECTOR_UNAVAILABLE', 'no Redis client was given to the log connector');
    return this.deps.redis;
  }

  async start(): Promise<void> {}

  async healthcheck() {
    try {
      await this.redis.ping();
      return { ok: true, detail: 'records containment in Redis; enforces nothing' };
    } catch (err) {
      return { ok: false, detail: `Redis unreachable: ${(err as Error).message}` };
    }
  }

  async apply(step: EnforcementStep): Promise<Receipt> {
    const receipt: Receipt = {
      connector: this.name,
      actionId: step.actionId,
      action: step.action,
      key: logKey(step),
      status: 'enforced',
      detail: `would ${step.action} ${step.device.ip} ${JSON.stringify(step.params)}`,
      expiresAt: step.expiresAt,
      data: { params: step.params, device: step.device.ip },
    };
    try {
      await this.redis.hset(this.hashKey, receipt.key, JSON.stringify(receipt));
    } catch (err) {
      throw new ConnectorError(this.name, 'CONNECTOR_UNAVAILABLE', `Redis: ${(err as Error).message}`, { cause: err });
    }
    this.deps.log.info({ connector: this.name, action: step.action, device: step.device.ip, actionId: step.actionId }, 'log connector: would enforce');
    return receipt;
  }

  async revert(receipt: Receipt): Promise<void> {
    await this.redis.hdel(this.hashKey, receipt.key);
  }

  async verify(receipt: Receipt): Promise<boolean> {
    const raw = await this.redis.hget(this.hashKey, receipt.key);
    if (!raw) return false;
    const stored = JSON.parse(raw) as Receipt;
    return stored.expiresAt === null || stored.expiresAt > Date.now();
  }

  async list(): Promise<Receipt[]> {
    const all = await this.redis.hgetall(this.hashKey);
    const now = Date.now();
    return Object.values(all).map((v) => JSON.parse(v) as Receipt).filter((r) => r.expiresAt === null || r.expiresAt > now);
  }

  async close(): Promise<void> {}
}

export const logConnector: ConnectorModule<LogOptions> = {
  type: LOG_CONNECTOR,
  description: 'Records what it would enforce (in Redis); touches no network. The default connector and the dry-run target.',
  capabilities: actionNames,
  privileges: 'None beyond Redis access.',
  optionsSchema: LogOptions,
  create: (name, _options, deps) => new LogConnector(name, deps),
};
