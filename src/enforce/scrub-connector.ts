// Wraps a connector so that no configured secret leaves it inside an error message or a health detail.
import type { Connector } from '../contracts/connector.js';
import { scrubError, scrubSecrets } from '../secrets.js';

const ASYNC_MEMBERS = new Set<PropertyKey>(['start', 'healthcheck', 'apply', 'applyMany', 'revert', 'verify', 'list']);

/**
 * A vendor that echoes our credentials in an error body (some do on 4xx/5xx) would otherwise put them into the
 * action record (the API shows connector details) and the log; `secrets` are this connector's own option values.
 */
export function withScrubbedErrors(connector: Connector, secrets: readonly string[]): Connector {
  if (!secrets.length) return connector;
  return new Proxy(connector, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (!ASYNC_MEMBERS.has(prop) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        try {
          const out: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (prop === 'healthcheck' && out && typeof out === 'object' && 'detail' in out && typeof out.detail === 'string') {
            return { ...out, detail: scrubSecrets(out.detail, secrets) };
          }
          return out;
        } catch (err) {
          throw scrubError(err, secrets);
        }
      };
    },
  });
}
