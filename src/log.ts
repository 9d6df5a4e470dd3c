// pino logger with secret redaction; the only place log output is configured.
import pino from 'pino';

export const redactPaths = [
  'secret', 'token', 'password', 'clientSecret', 'apiToken', 'authorization',
  '*.secret', '*.token', '*.password', '*.clientSecret', '*.apiToken', '*.authorization',
  'headers.authorization', 'headers["x-sheriff-signature"]', 'req.headers.authorization',
  'config.auth.tokens', 'config.sources', 'config.connectors.*.password', 'config.connectors.*.clientSecret', 'config.connectors.*.apiToken',
];

export function createLogger(opts: { level?: string; name?: string } = {}): pino.Logger {
  return pino({
    name: opts.name ?? 'sheriff',
    level: opts.level ?? process.env.SHERIFF_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
    redact: { paths: redactPaths, censor: '[redacted]' },
  });
}

export type Logger = pino.Logger;
