// Wires the per-connector circuit breakers to the config, the log and the audit chain (open/close entries).
import type { Config } from '../config.js';
import type { AuditLog } from '../ledger/audit.js';
import type { Logger } from '../log.js';
import type { BreakerEvents, BreakerOptions } from './breaker.js';

export function breakerWiring(config: Pick<Config, 'limits'>, audit: AuditLog, log: Logger): { options: BreakerOptions; events: BreakerEvents } {
  const record = (type: string, data: Record<string, unknown>) => {
    // An audit write that fails (Redis away) must not turn a connector call into a different error.
    void audit.append([{ type, by: 'system', data }]).catch((err: Error) => log.warn({ err: err.message, type }, 'audit append failed'));
  };
  return {
    options: { failures: config.limits.breaker.failures, coolDownMs: config.limits.breaker.coolDown },
    events: {
      onOpen(connector, info) {
        log.warn({ connector, failures: info.failures, until: new Date(info.until).toISOString(), err: info.lastError }, 'connector circuit breaker open: failing fast');
        record('connector.breaker.open', { connector, failures: info.failures, until: new Date(info.until).toISOString(), lastError: info.lastError });
      },
      onClose(connector, info) {
        log.info({ connector, openForMs: info.openForMs }, 'connector circuit breaker closed');
        record('connector.breaker.close', { connector, openForMs: info.openForMs });
      },
    },
  };
}
