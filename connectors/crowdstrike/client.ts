// Falcon API client: OAuth2 token cache, one re-auth on 401, vendor errors mapped to sheriff's catalogue.
import { z } from 'zod';
import { ConnectorError, vendorText } from '../../src/errors.js';

export interface FalconClientOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  memberCid?: string | undefined;
  timeoutMs: number;
}

const TokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().positive(),
});

const FalconErrors = z.object({
  errors: z.array(z.object({ code: z.number().optional(), message: z.string().optional() })).nullish(),
}).passthrough();

/** Refresh this long before the vendor's expiry, capped at half the lifetime for short-lived tokens. */
const REFRESH_MARGIN_MS = 60_000;

type Query = Record<string, string | string[]>;

export class FalconClient {
  private token: { value: string; refreshAt: number } | null = null;
  private tokenInFlight: Promise<string> | null = null;

  constructor(private readonly name: string, private readonly opts: FalconClientOptions) {}

  /** Drops the cached token (tests, close). */
  forgetToken(): void {
    this.token = null;
  }

  async request<T>(method: 'GET' | 'POST' | 'PATCH', path: string, schema: z.ZodType<T>, init: { query?: Query; body?: unknown } = {}): Promise<T> {
    let reauthed = false;
    for (;;) {
      const token = await this.getToken();
      const res = await this.send(method, path, init, { authorization: `Bearer ${token}` });
      if (res.status === 401) {
        this.token = null;
        if (reauthed) throw new ConnectorError(this.name, 'CONNECTOR_AUTH', `Falcon refused a fresh token for ${method} ${path} (401)`);
        reauthed = true;
        continue;
      }
      const body = await readJson(res);
      if (!res.ok) throw this.mapError(res, body, `${method} ${path}`);
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', `unexpected Falcon response to ${method} ${path}: ${parsed.error.issues.map((i) => i.path.join('.')).slice(0, 5).join(', ')}`);
      }
      return parsed.data;
    }
  }

  private async getToken(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt) return this.token.value;
    // One token request at a time: concurrent callers share it instead of minting several.
    this.tokenInFlight ??= this.fetchToken().finally(() => { this.tokenInFlight = null; });
    return this.tokenInFlight;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({ client_id: this.opts.clientId, client_secret: this.opts.clientSecret });
    if (this.opts.memberCid) form.set('member_cid', this.opts.memberCid);
    const res = await this.send('POST', '/oauth2/token', { form }, {});
    const body = await readJson(res);
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      throw new ConnectorError(this.name, 'CONNECTOR_AUTH', `Falcon refused the API client credentials (${res.status})`);
    }
    if (!res.ok) throw this.mapError(res, body, 'POST /oauth2/token');
    const parsed = TokenResponse.safeParse(body);
    if (!parsed.success) throw new ConnectorError(this.name, 'CONNECTOR_AUTH', 'Falcon token response has no access_token/expires_in');
    const lifetimeMs = parsed.data.expires_in * 1000;
    const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2);
    this.token = { value: parsed.data.access_token, refreshAt: Date.now() + lifetimeMs - margin };
    return parsed.data.access_token;
  }

  private async send(method: string, path: string, init: { query?: Query; body?: unknown; form?: URLSearchParams }, headers: Record<string, string>): Promise<Response> {
    const url = new URL(path, this.opts.baseUrl);
    for (const [k, v] of Object.entries(init.query ?? {})) {
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, item);
    }
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    let body: string | undefined;
    if (init.form) {
      h['content-type'] = 'application/x-www-form-urlencoded';
      body = init.form.toString();
    } else if (init.body !== undefined) {
      h['content-type'] = 'application/json';
      body = JSON.stringify(init.body);
    }
    try {
      return await fetch(url, { method, headers: h, body, signal: AbortSignal.timeout(this.opts.timeoutMs), redirect: 'error' });
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw new ConnectorError(this.name, 'CONNECTOR_TIMEOUT', `Falcon did not answer ${method} ${path} within ${this.opts.timeoutMs} ms`, { cause: err });
      }
      const code = (e.cause as { code?: string } | undefined)?.code ?? e.message;
      throw new ConnectorError(this.name, 'CONNECTOR_UNAVAILABLE', `Falcon unreachable for ${method} ${path}: ${String(code).slice(0, 80)}`, { cause: err });
    }
  }

  private mapError(res: Response, body: unknown, what: string): ConnectorError {
    const parsed = FalconErrors.safeParse(body);
    const vendor = parsed.success ? (parsed.data.errors ?? []).map((e) => e.message ?? '').filter(Boolean).join('; ') : '';
    const details = { httpStatus: res.status };
    const text = `Falcon answered ${res.status} to ${what}${vendor ? `: ${vendorText(vendor)}` : ''}`;
    if (res.status === 429) {
      return new ConnectorError(this.name, 'CONNECTOR_RATE_LIMITED', text, { retryAt: retryAtFrom(res.headers.get('x-ratelimit-retryafter')), details });
    }
    if (res.status >= 500) return new ConnectorError(this.name, 'CONNECTOR_UNAVAILABLE', text, { details });
    if (res.status === 403) return new ConnectorError(this.name, 'CONNECTOR_REJECTED', `${text} (check the API client's Hosts scopes)`, { details });
    return new ConnectorError(this.name, 'CONNECTOR_REJECTED', text, { details });
  }
}

/** The HTTP status behind a mapped vendor error, when there was one. */
export function httpStatusOf(err: unknown): number | undefined {
  const d = err instanceof ConnectorError ? (err.details as { httpStatus?: unknown } | undefined) : undefined;
  return typeof d?.httpStatus === 'number' ? d.httpStatus : undefined;
}

/** Falcon's X-Ratelimit-Retryafter is an epoch time in seconds; fall back to one second from now. */
export function retryAtFrom(header: string | null, now = Date.now()): number {
  const epoch = Number(header);
  if (header && Number.isFinite(epoch) && epoch > 0) return Math.max(now, Math.round(epoch * 1000));
  return now + 1000;
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
