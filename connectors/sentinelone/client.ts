// SentinelOne management API client: ApiToken auth, per-request timeout, vendor errors mapped to sheriff's catalogue.
import { z } from 'zod';
import { ConnectorError, retryAfterAt, vendorText } from '../../src/errors.js';

export interface S1ClientOptions {
  baseUrl: string;
  apiToken: string;
  timeoutMs: number;
}

const S1Errors = z.object({
  errors: z.array(z.object({ code: z.number().optional(), detail: z.string().nullish(), title: z.string().nullish() })).nullish(),
}).passthrough();

type Query = Record<string, string | undefined>;

export class S1Client {
  constructor(private readonly name: string, private readonly opts: S1ClientOptions) {}

  async request<T>(method: 'GET' | 'POST', path: string, schema: z.ZodType<T>, init: { query?: Query; body?: unknown } = {}): Promise<T> {
    const url = new URL(path, this.opts.baseUrl);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: 'application/json', authorization: `ApiToken ${this.opts.apiToken}` };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const what = `${method} ${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(this.opts.timeoutMs), redirect: 'error',
      });
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw new ConnectorError(this.name, 'CONNECTOR_TIMEOUT', `SentinelOne did not answer ${what} within ${this.opts.timeoutMs} ms`, { cause: err });
      }
      const code = (e.cause as { code?: string } | undefined)?.code ?? e.message;
      throw new ConnectorError(this.name, 'CONNECTOR_UNAVAILABLE', `SentinelOne unreachable for ${what}: ${String(code).slice(0, 80)}`, { cause: err });
    }
    const body = await readJson(res);
    if (!res.ok) throw this.mapError(res, body, what);
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', `unexpected SentinelOne response to ${what}: ${parsed.error.issues.map((i) => i.path.join('.')).slice(0, 5).join(', ')}`);
    }
    return parsed.data;
  }

  private mapError(res: Response, body: unknown, what: string): ConnectorError {
    const parsed = S1Errors.safeParse(body);
    const vendor = parsed.success ? (parsed.data.errors ?? []).map((e) => [e.title, e.detail].filter(Boolean).join(': ')).filter(Boolean).join('; ') : '';
    const details = { httpStatus: res.status };
    const text = `SentinelOne answered ${res.status} to ${what}${vendor ? `: ${vendorText(vendor)}` : ''}`;
    // A static API token cannot be refreshed: 401 means it is wrong, expired or revoked.
    if (res.status === 401) return new ConnectorError(this.name, 'CONNECTOR_AUTH', `${text} (check the API token)`, { details });
    if (res.status === 429) return new ConnectorError(this.name, 'CONNECTOR_RATE_LIMITED', text, { retryAt: retryAfterAt(res.headers.get('retry-after'), 1000), details });
    if (res.status >= 500) return new ConnectorError(this.name, 'CONNECTOR_UNAVAILABLE', text, { details });
    if (res.status === 403) return new ConnectorError(this.name, 'CONNECTOR_REJECTED', `${text} (the service user's role lacks this permission or scope)`, { details });
    return new ConnectorError(this.name, 'CONNECTOR_REJECTED', text, { details });
  }
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
