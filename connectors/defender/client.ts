// HTTP client for Defender for Endpoint: Entra ID token cache, one re-auth on 401, vendor errors → sheriff's catalogue.
import type { z } from 'zod';
import { ConnectorError, retryAfterAt } from '../../src/errors.js';
import { TokenAnswer, TokenError, VendorError, collection, tame } from './schemas.js';

export interface ClientOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  baseUrl: string;
  loginUrl: string;
  scope: string;
  timeoutMs: number;
}

export interface VendorFailure {
  status: number;
  code: string;
  message: string;
}

/** Thrown for a non-2xx answer that callers may want to inspect (400 "already in progress", 404). */
export class VendorHttpError extends ConnectorError {
  constructor(connector: string, readonly failure: VendorFailure, code: 'CONNECTOR_REJECTED' | 'CONNECTOR_AUTH') {
    super(connector, code, `Defender answered ${failure.status} ${tame(failure.code)}: ${tame(failure.message)}`, { details: { status: failure.status, vendorCode: tame(failure.code) } });
  }
}

const MAX_PAGES = 20;

export class DefenderClient {
  private token: { value: string; refreshAt: number } | null = null;
  private tokenInFlight: Promise<string> | null = null;
  private readonly base: URL;

  constructor(private readonly name: string, private readonly opts: ClientOptions) {
    this.base = new URL(opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`);
  }

  /** Forget the cached token (after a 401). */
  dropToken(): void {
    this.token = null;
  }

  private async fetchRaw(url: URL, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.opts.timeoutMs) });
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw new ConnectorError(this.name, 'CONNECTOR_TIMEOUT', `no answer from ${url.host} within ${this.opts.timeoutMs} ms`);
      }
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? e.name;
      throw new ConnectorError(this.name, 'CONNECTOR_UNAVAILABLE', `cannot reach ${url.host} (${tame(String(cause))})`);
    }
  }

  private async getToken(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt) return this.token.value;
    // One token request at a time: concurrent callers share it.
    this.tokenInFlight ??= this.requestToken().finally(() => { this.tokenInFlight = null; });
    return this.tokenInFlight;
  }

  private async requestToken(): Promise<string> {
    const url = new URL(`${encodeURIComponent(this.opts.tenantId)}/oauth2/v2.0/token`, this.opts.loginUrl.endsWith('/') ? this.opts.loginUrl : `${this.opts.loginUrl}/`);
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.opts.clientId, client_secret: this.opts.clientSecret, scope: this.opts.scope });
    const res = await this.fetchRaw(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body });
    const json = await res.json().catch(() => null);
    if (!res.ok) {
      this.rateLimitOrUnavailable(res);
      const parsed = TokenError.safeParse(json);
      const what = parsed.success ? `${tame(parsed.data.error)}: ${tame(parsed.data.error_description ?? '')}` : `HTTP ${res.status}`;
      throw new ConnectorError(this.name, 'CONNECTOR_AUTH', `Entra ID refused the client credentials (${what})`);
    }
    const parsed = TokenAnswer.safeParse(json);
    if (!parsed.success) throw new ConnectorError(this.name, 'CONNECTOR_UNAVAILABLE', 'Entra ID answered an unexpected token body');
    const lifetimeMs = parsed.data.expires_in * 1000;
    // Refresh well before expiry: five minutes early, or half the lifetime for short-lived tokens.
    const margin = Math.min(300_000, lifetimeMs / 2);
    this.token = { value: parsed.data.access_token, refreshAt: Date.now() + lifetimeMs - margin };
    return parsed.data.access_token;
  }

  /** 429 and 5xx are retryable whatever the endpoint. */
  private rateLimitOrUnavailable(res: Response): void {
    if (res.status === 429) {
      throw new ConnectorError(this.name, 'CONNECTOR_RATE_LIMITED', 'Defender asked us to slow down (429)', { retryAt: retryAfterAt(res.headers.get('retry-after'), 60_000) });
    }
    if (res.status >= 500) throw new ConnectorError(this.name, 'CONNECTOR_UNAVAILABLE', `Defender answered ${res.status}`);
  }

  /** Same-origin only: the bearer token never goes to a host other than baseUrl (e.g. a forged nextLink). */
  private resolve(pathOrUrl: string): URL {
    const url = new URL(pathOrUrl.replace(/^\//, ''), this.base);
    if (url.origin !== this.base.origin) throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', 'refusing to follow a link to another host');
    return url;
  }

  /** One API call: JSON in/out, one re-auth on 401, zod-checked answer; `null` schema means no body expected. */
  async call<T extends z.ZodTypeAny>(method: string, path: string, schema: T | null, body?: unknown): Promise<z.output<T> | null> {
    const url = this.resolve(path);
    for (let attempt = 0; ; attempt += 1) {
      const token = await this.getToken();
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await this.fetchRaw(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      if (res.status === 401) {
        await res.arrayBuffer().catch(() => undefined);
        this.dropToken();
        if (attempt === 0) continue;
        throw new ConnectorError(this.name, 'CONNECTOR_AUTH', 'Defender refused a fresh token (401) twice; check the app registration');
      }
      if (!res.ok) {
        this.rateLimitOrUnavailable(res);
        const json = await res.json().catch(() => null);
        const parsed = VendorError.safeParse(json);
        const failure = { status: res.status, code: parsed.success ? parsed.data.error.code ?? '' : '', message: parsed.success ? parsed.data.error.message ?? '' : '' };
        throw new VendorHttpError(this.name, failure, res.status === 403 ? 'CONNECTOR_AUTH' : 'CONNECTOR_REJECTED');
      }
      if (schema === null || res.status === 204) {
        await res.arrayBuffer().catch(() => undefined);
        return null;
      }
      const json = await res.json().catch(() => undefined);
      const parsed = schema.safeParse(json);
      if (!parsed.success) throw new ConnectorError(this.name, 'CONNECTOR_UNAVAILABLE', `unexpected answer shape from ${method} ${url.pathname}`);
      return parsed.data;
    }
  }

  /** GET a collection, following `@odata.nextLink` (same host only) up to a page limit. */
  async list<T extends z.ZodTypeAny>(path: string, item: T): Promise<z.output<T>[]> {
    const out: z.output<T>[] = [];
    let next: string | undefined = path;
    for (let page = 0; next !== undefined && page < MAX_PAGES; page += 1) {
      const answer: { value: z.output<T>[]; '@odata.nextLink'?: string } | null = await this.call('GET', next, collection(item));
      if (!answer) break;
      out.push(...answer.value);
      next = answer['@odata.nextLink'];
    }
    return out;
  }
}

