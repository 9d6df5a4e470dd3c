// The error catalogue: every error sheriff reports has a stable code, an HTTP status and whether a retry can help.

export const errorCatalogue = {
  VALIDATION: { status: 400, retryable: false, message: 'The request is invalid' },
  INVALID_JSON: { status: 400, retryable: false, message: 'The body is not valid JSON' },
  UNAUTHORIZED: { status: 401, retryable: false, message: 'Missing or invalid credentials' },
  FORBIDDEN: { status: 403, retryable: false, message: 'Your role may not do this' },
  NOT_FOUND: { status: 404, retryable: false, message: 'Not found' },
  CONFLICT: { status: 409, retryable: false, message: 'The current state does not allow this' },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, message: 'The body is over the size limit' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, message: 'Unsupported content type' },
  RATE_LIMITED: { status: 429, retryable: true, message: 'Too many requests' },
  INTERNAL: { status: 500, retryable: true, message: 'Internal error' },
  QUEUE_UNAVAILABLE: { status: 503, retryable: true, message: 'The queue (Redis) is unreachable; retry later' },
  // Connector-side kinds: the enforce worker retries only the retryable ones.
  CONNECTOR_UNAVAILABLE: { status: 503, retryable: true, message: 'The enforcement point is unreachable' },
  CONNECTOR_TIMEOUT: { status: 504, retryable: true, message: 'The enforcement point did not answer in time' },
  CONNECTOR_RATE_LIMITED: { status: 429, retryable: true, message: 'The enforcement point asked us to slow down' },
  CONNECTOR_AUTH: { status: 502, retryable: false, message: 'The enforcement point refused our credentials' },
  CONNECTOR_REJECTED: { status: 502, retryable: false, message: 'The enforcement point refused the request' },
  CONNECTOR_AMBIGUOUS: { status: 409, retryable: false, message: 'The device matches several hosts; refusing to guess' },
  CONNECTOR_NOT_RESPONSIBLE: { status: 404, retryable: false, message: 'This enforcement point does not know the device' },
  CAPABILITY_MISSING: { status: 400, retryable: false, message: 'No connector offers this capability' },
  CONFIG: { status: 500, retryable: false, message: 'The configuration is invalid' },
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

export class SheriffError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: unknown;
  /** For rate limits: when a retry may start (epoch ms). */
  readonly retryAt: number | undefined;

  constructor(code: ErrorCode, message?: string, opts: { details?: unknown; cause?: unknown; retryable?: boolean; retryAt?: number } = {}) {
    super(message ?? errorCatalogue[code].message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SheriffError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.retryable = opts.retryable ?? errorCatalogue[code].retryable;
    this.details = opts.details;
    this.retryAt = opts.retryAt;
  }

  toJSON(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

/** A connector failure; `retryable` decides whether the enforce worker backs off and tries again. */
export class ConnectorError extends SheriffError {
  readonly connector: string;
  constructor(connector: string, code: ErrorCode, message: string, opts: { details?: unknown; cause?: unknown; retryable?: boolean; retryAt?: number } = {}) {
    super(code, `${connector}: ${message}`, opts);
    this.name = 'ConnectorError';
    this.connector = connector;
  }
}

/** Thrown by a connector that cannot find the device (an EDR without the host, a cluster without the pod). */
export class NotResponsibleError extends ConnectorError {
  constructor(connector: string, message: string) {
    super(connector, 'CONNECTOR_NOT_RESPONSIBLE', message);
    this.name = 'NotResponsibleError';
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof SheriffError ? err.retryable : true;
}

/**
 * When a rate-limited call may be retried (epoch ms), from an HTTP `Retry-After` header: delta seconds or an HTTP
 * date. Without a usable header, `fallbackMs` from now.
 */
export function retryAfterAt(header: string | null | undefined, fallbackMs: number, now = Date.now()): number {
  if (header) {
    const secs = Number(header);
    if (Number.isFinite(secs)) return secs >= 0 ? now + Math.ceil(secs * 1000) : now + fallbackMs;
    const date = Date.parse(header);
    if (Number.isFinite(date)) return Math.max(now, date);
  }
  return now + fallbackMs;
}

/** Text a vendor sent, made fit for an error message (logs, API answers): one line, printable, short. */
export function vendorText(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, ' ').slice(0, 300);
}
