// A fake Falcon API on 127.0.0.1: OAuth2 tokens, device query/entities, containment actions, grouping tags.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface FakeDevice {
  device_id: string;
  hostname: string;
  local_ip: string;
  status: 'normal' | 'containment_pending' | 'contained' | 'lift_containment_pending';
  tags: string[];
  /** What the search index still holds for local_ip (Falcon's index lags behind the entity). */
  indexedIp?: string;
}

export interface LoggedRequest { method: string; path: string; query: URLSearchParams; body: unknown; status: number; auth: string | undefined }

export interface FakeFalcon {
  url: string;
  devices: Map<string, FakeDevice>;
  log: LoggedRequest[];
  knobs: {
    clientId: string;
    clientSecret: string;
    /** Lifetime of issued tokens (s); the fake answers 401 to an expired token. */
    tokenTtlSec: number;
    /** Entity reads that still show *_pending after a contain/lift before the final state. */
    pendingReads: number;
    /** Answer the next N API (non-token) requests with this status. */
    failNext: { status: number; count: number; retryAfterEpoch?: number };
    /** Delay every answer by this many ms. */
    slowMs: number;
  };
  addDevice(d: Partial<FakeDevice> & { local_ip: string }): FakeDevice;
  revokeTokens(): void;
  calls(pathPart: string, actionName?: string): LoggedRequest[];
  close(): Promise<void>;
}

export function newDeviceId(): string {
  return randomBytes(16).toString('hex');
}

export async function startFakeFalcon(): Promise<FakeFalcon> {
  const devices = new Map<string, FakeDevice>();
  const tokens = new Map<string, number>();
  const pending = new Map<string, number>();
  const log: LoggedRequest[] = [];
  const knobs: FakeFalcon['knobs'] = { clientId: 'cid-test', clientSecret: 'secret-test', tokenTtlSec: 1799, pendingReads: 0, failNext: { status: 0, count: 0 }, slowMs: 0 };

  const meta = () => ({ query_time: 0.001, powered_by: 'fake-falcon', trace_id: randomBytes(8).toString('hex') });
  const errorBody = (code: number, message: string) => ({ meta: meta(), errors: [{ code, message }], resources: [] });

  const settle = (d: FakeDevice) => {
    const left = pending.get(d.device_id) ?? 0;
    if (left > 0) {
      pending.set(d.device_id, left - 1);
      return;
    }
    if (d.status === 'containment_pending') d.status = 'contained';
    if (d.status === 'lift_containment_pending') d.status = 'normal';
  };

  // FQL subset: field:'value' or field:['a','b'] joined with '+'.
  const matches = (d: FakeDevice, filter: string): boolean => {
    if (!filter) return true;
    return filter.split('+').every((term) => {
      const m = /^(\w+):(?:'([^']*)'|\[((?:'[^']*',?)*)\])$/.exec(term);
      if (!m) throw new Error(`bad FQL term ${term}`);
      const values = m[2] !== undefined ? [m[2]] : [...(m[3] as string).matchAll(/'([^']*)'/g)].map((x) => x[1] as string);
      const field = m[1] as string;
      const actual = field === 'local_ip' ? (d.indexedIp ?? d.local_ip) : field === 'hostname' ? d.hostname.toLowerCase() : field === 'status' ? d.status : undefined;
      if (actual === undefined) throw new Error(`unsupported FQL field ${field}`);
      return values.some((v) => (field === 'hostname' ? v.toLowerCase() : v) === actual);
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL, raw: string): Promise<[number, unknown, Record<string, string>?]> => {
    if (url.pathname === '/oauth2/token' && req.method === 'POST') {
      const form = new URLSearchParams(raw);
      if (form.get('client_id') !== knobs.clientId || form.get('client_secret') !== knobs.clientSecret) return [401, errorBody(401, 'access denied, invalid client')];
      const token = randomBytes(24).toString('hex');
      tokens.set(token, Date.now() + knobs.tokenTtlSec * 1000);
      return [201, { access_token: token, token_type: 'bearer', expires_in: knobs.tokenTtlSec }];
    }
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const exp = auth ? tokens.get(auth[1] as string) : undefined;
    if (!exp || exp < Date.now()) return [401, errorBody(401, 'access denied, authorization failed')];
    if (knobs.failNext.count > 0) {
      knobs.failNext.count -= 1;
      const headers: Record<string, string> = knobs.failNext.retryAfterEpoch ? { 'X-Ratelimit-Retryafter': String(knobs.failNext.retryAfterEpoch) } : {};
      return [knobs.failNext.status, errorBody(knobs.failNext.status, knobs.failNext.status === 429 ? 'API rate limit exceeded.' : 'internal error'), headers];
    }
    const body = raw ? JSON.parse(raw) as Record<string, unknown> : {};
    if (url.pathname === '/devices/queries/devices/v1' && req.method === 'GET') {
      let all: FakeDevice[];
      try {
        all = [...devices.values()].filter((d) => matches(d, url.searchParams.get('filter') ?? ''));
      } catch (err) {
        return [400, errorBody(400, (err as Error).message)];
      }
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 100);
      return [200, { meta: { ...meta(), pagination: { offset, limit, total: all.length } }, errors: [], resources: all.slice(offset, offset + limit).map((d) => d.device_id) }];
    }
    if (url.pathname === '/devices/entities/devices/v2') {
      const ids = req.method === 'POST' ? (body.ids as string[]) : url.searchParams.getAll('ids');
      const found = ids.map((id) => devices.get(id)).filter((d): d is FakeDevice => d !== undefined);
      if (found.length === 0) return [404, errorBody(404, 'Devices not found')];
      found.forEach(settle);
      return [200, { meta: meta(), errors: [], resources: found.map(({ indexedIp: _i, ...d }) => ({ ...d, tags: [...d.tags] })) }];
    }
    if (url.pathname === '/devices/entities/devices-actions/v2' && req.method === 'POST') {
      const action = url.searchParams.get('action_name');
      const ids = body.ids as string[];
      if (action !== 'contain' && action !== 'lift_containment') return [400, errorBody(400, 'invalid action_name')];
      const out = [];
      for (const id of ids) {
        const d = devices.get(id);
        if (!d) return [404, errorBody(404, `device ${id} not found`)];
        d.status = action === 'contain' ? 'containment_pending' : 'lift_containment_pending';
        pending.set(id, knobs.pendingReads);
        out.push({ id, path: '' });
      }
      return [202, { meta: meta(), errors: [], resources: out }];
    }
    if (url.pathname === '/devices/entities/devices/tags/v1' && req.method === 'PATCH') {
      const { action, device_ids: ids, tags } = body as { action: string; device_ids: string[]; tags: string[] };
      if (!tags.every((t) => /^FalconGroupingTags\/\w{1,237}$/.test(t))) return [400, errorBody(400, 'invalid tag')];
      const out = ids.map((id) => {
        const d = devices.get(id);
        if (!d) return { device_id: id, updated: false, code: 404 };
        d.tags = action === 'add' ? [...new Set([...d.tags, ...tags])] : d.tags.filter((t) => !tags.includes(t));
        return { device_id: id, updated: true, code: 200 };
      });
      return [202, { meta: meta(), errors: [], resources: out }];
    }
    return [404, errorBody(404, 'route not found')];
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      void (async () => {
        if (knobs.slowMs) await new Promise((r) => setTimeout(r, knobs.slowMs));
        const [status, payload, headers] = await handle(req, res, url, raw);
        let logged: unknown = raw;
        try { logged = JSON.parse(raw); } catch { /* form or empty */ }
        log.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, body: logged, status, auth: req.headers.authorization });
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    devices,
    log,
    knobs,
    addDevice(d) {
      const device: FakeDevice = { device_id: newDeviceId(), hostname: `host-${randomBytes(3).toString('hex')}`, status: 'normal', tags: [], ...d };
      devices.set(device.device_id, device);
      return device;
    },
    revokeTokens: () => tokens.clear(),
    calls: (pathPart, actionName) => log.filter((r) => r.path.includes(pathPart) && (actionName === undefined || r.query.get('action_name') === actionName)),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
