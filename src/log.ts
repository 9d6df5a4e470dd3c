// pino logger with secret redaction; the only place log output is configured.
import pino from 'pino';
import { scrubSecrets } from './secrets.js';

export const redactPaths = [
  'secret', 'token', 'password', 'clientSecret', 'apiToken', 'authorization',
  '*.secret', '*.token', '*.password', '*.clientSecret', '*.apiToken', '*.authorization',
  'headers.authorization', 'headers["x-sheriff-signature"]', 'req.headers.authorization',
  'config.auth.tokens', 'config.sources', 'config.connectors.*.password', 'config.connectors.*.clientSecret', 'config.connectors.*.apiToken',
];

/** `destination`: where the JSON lines go (default stdout); tests capture them to look for leaked secrets. */
export function createLogger(opts: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): pino.Logger {
  const options = {
    name: opts.name ?? 'sheriff',
    level: opts.level ?? process.env.SHERIFF_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
    redact: { paths: redactPaths, censor: '[redacted]' },
    // Paths cannot catch a secret inside a message (a vendor echoing our credentials): scrub the values too.
    hooks: { streamWrite: (line: string) => scrubSecrets(line) },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

export type Logger = pino.Logger;
