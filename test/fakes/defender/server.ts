// Fake Microsoft Defender for Endpoint + Entra ID token endpoint on 127.0.0.1, with a request log and fault switches.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeDefenderState, matchesEq, parseEqFilter, type FakeMachine } from './state.js';

export interface LoggedRequest {
  method: string;
  /** Decoded path + query, as the vendor would see it. */
  path: string;
  body: string;
  status: number;
}

export interface Fault {
  /** Applies to requests whose decoded path matches; default every API request (not the token endpoint). */
  path?: RegExp;
  status?: number;
  retryAfter?: string;
  delayMs?: number;
  times: number;
}

export const FAKE_TENANT = '11111111-2222-3333-4444-555555555555';
export const FAKE_CLIENT_ID = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
export const FAKE_SECRET = `fake-secret-${randomBytes(6).toString('hex')}`;

export class FakeDefender {
  readonly state = new FakeDefenderState();
  readonly log: LoggedRequest[] = [];
  faults: Fault[] = [];
  tokenTtlS = 3599;
  /** Items per collection page; more come through `@odata.nextLink`. */
  pageSize = 10_000;
  /** The app lost its consent: every API call answers 401 whatever the token. */
  rejectAllTokens = false;
  /** A repeated isolate while one is pending: 400 "already in progress" (`error`) or the pending action again (`return-pending`). */
  duplicateMode: 'error' | 'return-pending' = 'error';
  /** Called before each API request is answered: lets a test inject a race (another client acting meanwhile). */
  onRequest: ((method: string, path: string) => void) | null = null;
  private tokens = new Map<string, number>();
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => { void this.handle(req, res); });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  addMachine(m: Partial<FakeMachine> & { ip: string }): FakeMachine {
    const machine: FakeMachine = {
      id: m.id ?? randomBytes(20).toString('hex'), computerDnsName: m.computerDnsName ?? `host-${randomBytes(3).toString('hex')}.corp.example`,
      lastIpAddress: m.ip, ipAddresses: m.ipAddresses ?? [m.ip], ...(m.recentIps ? { recentIps: m.recentIps } : {}),
    };
    this.state.machines.push(machine);
    return machine;
  }

  revokeTokens(): void {
    this.tokens.clear();
  }

  /** Requests other than the token endpoint, optionally only those matching. */
  apiCalls(method?: string, path?: RegExp): LoggedRequest[] {
    return this.log.filter((r) => !r.path.includes('/oauth2/') && (!method || r.method === method) && (!path || path.test(r.path)));
  }

  tokenCalls(): LoggedRequest[] {
    return this.log.filter((r) => r.path.includes('/oauth2/v2.0/token'));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    const path = decodeURIComponent(url.pathname) + (url.search ? decodeURIComponent(url.search) : '');
    const entry: LoggedRequest = { method: req.method ?? 'GET', path, body, status: 0 };
    this.log.push(entry);
    const send = (status: number, json?: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { ...(json === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }), ...headers });
      res.end(json === undefined ? undefined : JSON.stringify(json));
    };
    const isToken = url.pathname.endsWith('/oauth2/v2.0/token');
    const fault = isToken ? undefined : this.faults.find((f) => f.times > 0 && (!f.path || f.path.test(path)));
    if (fault) {
      fault.times -= 1;
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.status === 429) return send(429, { error: { code: 'TooManyRequests', message: 'Too many requests', target: randomBytes(8).toString('hex') } }, fault.retryAfter ? { 'Retry-After': fault.retryAfter } : {});
      if (fault.status) return send(fault.status, { error: { code: 'InternalServerError', message: '', target: randomBytes(8).toString('hex') } });
    }
    if (isToken) return this.token(url, body, send);
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const issued = auth ? this.tokens.get(auth[1] as string) : undefined;
    if (this.rejectAllTokens || issued === undefined || issued + this.tokenTtlS * 1000 <= Date.now()) {
      return send(401, { error: { code: 'Unauthorized', message: 'The access token is missing, invalid or expired', target: randomBytes(8).toString('hex') } });
    }
    this.onRequest?.(entry.method, path);
    return this.api(req.method ?? 'GET', url, body, send);
  }

  private token(url: URL, body: string, send: (s: number, j?: unknown) => void): void {
    const form = new URLSearchParams(body);
    if (!url.pathname.startsWith(`/${FAKE_TENANT}/`)) return send(400, { error: 'invalid_request', error_description: 'AADSTS90002: Tenant not found.', error_codes: [90002] });
    if (form.get('grant_type') !== 'client_credentials' || !form.get('scope')?.endsWith('/.default')) {
      return send(400, { error: 'invalid_request', error_description: 'AADSTS900144: The request body must contain the following parameter: grant_type or scope.', error_codes: [900144] });
    }
    if (form.get('client_id') !== FAKE_CLIENT_ID || form.get('client_secret') !== FAKE_SECRET) {
      return send(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] });
    }
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, Date.now());
    send(200, { token_type: 'Bearer', expires_in: this.tokenTtlS, ext_expires_in: this.tokenTtlS, access_token: token });
  }

  private api(method: string, url: URL, body: string, send: (s: number, j?: unknown) => void): void {
    const s = this.state;
    const p = decodeURIComponent(url.pathname);
    const bad = (message: string, code = 'InvalidRequestBody') => send(400, { error: { code, message, target: randomBytes(8).toString('hex') } });
    const notFound = (what: string) => send(404, { error: { code: 'ResourceNotFound', message: `${what} was not found`, target: randomBytes(8).toString('hex') } });
    const filter = parseEqFilter(url.searchParams.get('$filter'));
    const page = (items: unknown[]) => {
      const skip = Number(url.searchParams.get('$skip') ?? 0);
      const next = new URL(url);
      next.searchParams.set('$skip', String(skip + this.pageSize));
      const more = skip + this.pageSize < items.length ? { '@odata.nextLink': next.toString() } : {};
      send(200, { '@odata.context': `${this.url}/api/$metadata#Collection`, value: items.slice(skip, skip + this.pageSize), ...more });
    };

    const byIp = /^\/api\/machines\/findbyip\(ip='([^']*)',timestamp=([^)]*)\)$/.exec(p);
    if (method === 'GET' && byIp) {
      const ts = Date.parse(byIp[2] as string);
      if (!Number.isFinite(ts)) return bad('Invalid timestamp');
      if (ts < Date.now() - 30 * 86_400_000) return bad('Timestamp must be within the last 30 days');
      const ip = byIp[1] as string;
      return page(s.machines.filter((m) => m.lastIpAddress === ip || m.ipAddresses.includes(ip) || m.recentIps?.includes(ip)).map((m) => s.machineJson(m)));
    }
    if (method === 'GET' && p === '/api/machines') {
      if (filter === null) return bad('Invalid filter clause', 'BadRequest');
      const top = Number(url.searchParams.get('$top') ?? 10_000);
      return page(s.machines.map((m) => s.machineJson(m)).filter((m) => matchesEq(m, filter, ['computerDnsName'])).slice(0, top));
    }
    const act = /^\/api\/machines\/([^/]+)\/(isolate|unisolate)$/.exec(p);
    if (method === 'POST' && act) {
      const machine = s.machines.find((m) => m.id === act[1]);
      if (!machine) return notFound(`Machine ${act[1]}`);
      let json: Record<string, unknown>;
      try { json = JSON.parse(body) as Record<string, unknown>; } catch { return bad('Request body is incorrect'); }
      if (typeof json.Comment !== 'string' || json.Comment.length === 0) return bad('Comment is required');
      const type = act[2] === 'isolate' ? 'Isolate' : 'Unisolate';
      if (type === 'Isolate' && json.IsolationType !== undefined && json.IsolationType !== 'Full' && json.IsolationType !== 'Selective') return bad('IsolationType is invalid');
      const active = s.activeAction(machine.id, type);
      if (active) return this.duplicateMode === 'error' ? bad('Action is already in progress', 'ActiveRequestAlreadyExists') : send(201, s.actionJson(active, true));
      const created = s.addAction(machine, type, json.Comment, type === 'Isolate' ? String(json.IsolationType ?? 'Full') : 'Full', FAKE_CLIENT_ID);
      return send(201, s.actionJson(created, true));
    }
    if (method === 'GET' && p === '/api/machineactions') {
      if (filter === null) return bad('Invalid filter clause', 'BadRequest');
      const matching = s.actions.filter((a) => matchesEq(a as unknown as Record<string, unknown>, filter));
      return page(matching.map((a) => s.actionJson(a)));
    }
    const one = /^\/api\/machineactions\/([0-9a-f-]{36})$/.exec(p);
    if (method === 'GET' && one) {
      const a = s.actions.find((x) => x.id === one[1]);
      return a ? send(200, s.actionJson(a)) : notFound(`MachineAction ${one[1]}`);
    }
    if (method === 'GET' && p === '/api/indicators') {
      if (filter === null) return bad('Invalid filter clause', 'BadRequest');
      return page(s.activeIndicators().map((i) => s.indicatorJson(i)).filter((i) => matchesEq(i, filter)));
    }
    if (method === 'POST' && p === '/api/indicators') {
      let json: Record<string, unknown>;
      try { json = JSON.parse(body) as Record<string, unknown>; } catch { return bad('Request body is incorrect'); }
      for (const k of ['indicatorValue', 'indicatorType', 'action', 'title', 'description']) if (typeof json[k] !== 'string') return bad(`${k} is required`);
      if (json.indicatorType === 'IpAddress' && String(json.indicatorValue).includes('/')) return bad('CIDR notation is not supported for IP indicators');
      return send(200, s.indicatorJson(s.upsertIndicator(json)));
    }
    const del = /^\/api\/indicators\/([^/]+)$/.exec(p);
    if (method === 'DELETE' && del) {
      const idx = s.indicators.findIndex((i) => i.id === del[1]);
      if (idx < 0) return notFound(`Indicator ${del[1]}`);
      s.indicators.splice(idx, 1);
      return send(204);
    }
    return notFound(`Resource ${p}`);
  }
}
