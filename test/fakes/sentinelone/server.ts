// A fake SentinelOne management API on 127.0.0.1: agents list (with its substring IP filter), disconnect/connect, external id.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';

export type NetworkStatus = 'connected' | 'connecting' | 'disconnected' | 'disconnecting';

export interface FakeAgent {
  id: string;
  computerName: string;
  networkStatus: NetworkStatus;
  externalId: string;
  siteId: string;
  accountId: string;
  isDecommissioned: boolean;
  networkInterfaces: { id: string; name: string; inet: string[]; inet6: string[]; physical: string }[];
}

export interface LoggedRequest { method: string; path: string; query: URLSearchParams; body: unknown; status: number }

export interface FakeS1 {
  url: string;
  token: string;
  agents: Map<string, FakeAgent>;
  log: LoggedRequest[];
  knobs: {
    /** Agent reads that still show *ing after a disconnect/connect before the final state. */
    pendingReads: number;
    failNext: { status: number; count: number; retryAfter?: string };
    slowMs: number;
  };
  addAgent(a: Partial<Omit<FakeAgent, 'networkInterfaces'>> & { ips: string[] }): FakeAgent;
  calls(pathPart: string): LoggedRequest[];
  close(): Promise<void>;
}

export async function startFakeS1(): Promise<FakeS1> {
  const token = randomBytes(20).toString('hex');
  const agents = new Map<string, FakeAgent>();
  const pending = new Map<string, number>();
  const log: LoggedRequest[] = [];
  const knobs: FakeS1['knobs'] = { pendingReads: 0, failNext: { status: 0, count: 0 }, slowMs: 0 };
  const err = (code: number, title: string, detail: string) => ({ errors: [{ code, title, detail }] });

  const settle = (a: FakeAgent) => {
    const left = pending.get(a.id) ?? 0;
    if (left > 0) {
      pending.set(a.id, left - 1);
      return;
    }
    if (a.networkStatus === 'disconnecting') a.networkStatus = 'disconnected';
    if (a.networkStatus === 'connecting') a.networkStatus = 'connected';
  };

  const list = (q: URLSearchParams): FakeAgent[] => {
    const csv = (k: string) => q.get(k)?.split(',');
    return [...agents.values()].filter((a) => {
      const inet = q.get('networkInterfaceInet__contains');
      // The vendor's filter is a substring match over every interface address.
      if (inet && !a.networkInterfaces.some((n) => n.inet.some((i) => i.includes(inet)))) return false;
      const name = q.get('computerName');
      if (name && a.computerName.toLowerCase() !== name.toLowerCase()) return false;
      if (csv('ids') && !csv('ids')?.includes(a.id)) return false;
      if (csv('networkStatuses') && !csv('networkStatuses')?.includes(a.networkStatus)) return false;
      if (csv('siteIds') && !csv('siteIds')?.includes(a.siteId)) return false;
      if (csv('accountIds') && !csv('accountIds')?.includes(a.accountId)) return false;
      return true;
    }).sort((x, y) => x.id.localeCompare(y.id));
  };

  const handle = (method: string, url: URL, auth: string | undefined, raw: string): [number, unknown, Record<string, string>?] => {
    if (auth !== `ApiToken ${token}`) return [401, err(4010010, 'Authentication Failed', 'Invalid token')];
    if (knobs.failNext.count > 0) {
      knobs.failNext.count -= 1;
      const headers: Record<string, string> = knobs.failNext.retryAfter ? { 'Retry-After': knobs.failNext.retryAfter } : {};
      return [knobs.failNext.status, err(knobs.failNext.status * 10000, knobs.failNext.status === 429 ? 'Too Many Requests' : 'Server Error', 'fake failure'), headers];
    }
    if (url.pathname === '/web/api/v2.1/agents' && method === 'GET') {
      const all = list(url.searchParams);
      const limit = Number(url.searchParams.get('limit') ?? 10);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return [400, err(4000010, 'Validation Error', 'limit must be 1..1000')];
      const start = url.searchParams.get('cursor') ? Number(Buffer.from(url.searchParams.get('cursor') as string, 'base64url').toString()) : 0;
      const data = all.slice(start, start + limit);
      data.forEach(settle);
      const next = start + limit < all.length ? Buffer.from(String(start + limit)).toString('base64url') : null;
      return [200, { data: structuredClone(data), pagination: { nextCursor: next, totalItems: all.length } }];
    }
    const action = /^\/web\/api\/v2\.1\/agents\/actions\/(disconnect|connect|set-external-id)$/.exec(url.pathname);
    if (action && method === 'POST') {
      const body = JSON.parse(raw) as { filter?: { ids?: string[] }; data?: { externalId?: string } };
      const ids = body.filter?.ids;
      if (!Array.isArray(ids) || ids.length === 0) return [400, err(4000010, 'Validation Error', 'filter must not be empty')];
      let affected = 0;
      for (const id of ids) {
        const a = agents.get(id);
        if (!a) continue;
        affected += 1;
        if (action[1] === 'set-external-id') {
          if (typeof body.data?.externalId !== 'string') return [400, err(4000010, 'Validation Error', 'data.externalId required')];
          a.externalId = body.data.externalId;
        } else {
          a.networkStatus = action[1] === 'disconnect' ? 'disconnecting' : 'connecting';
          pending.set(id, knobs.pendingReads);
        }
      }
      return [200, { data: { affected } }];
    }
    return [404, err(4040010, 'Not Found', 'route not found')];
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      void (async () => {
        if (knobs.slowMs) await new Promise((r) => setTimeout(r, knobs.slowMs));
        const [status, payload, headers] = handle(req.method ?? '', url, req.headers.authorization, raw);
        let body: unknown = raw;
        try { body = JSON.parse(raw); } catch { /* empty */ }
        log.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, body, status });
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
    token,
    agents,
    log,
    knobs,
    addAgent({ ips, ...rest }) {
      const agent: FakeAgent = {
        id: String(randomInt(1e9, 2 ** 47)) + String(randomInt(1e5, 1e6)),
        computerName: `host-${randomBytes(3).toString('hex')}`,
        networkStatus: 'connected', externalId: '', siteId: '100000000000000001', accountId: '200000000000000001', isDecommissioned: false,
        ...rest,
        networkInterfaces: [{ id: String(randomInt(1e9)), name: 'eth0', inet: ips, inet6: [], physical: '00:11:22:33:44:55' }],
      };
      agents.set(agent.id, agent);
      return agent;
    },
    calls: (pathPart) => log.filter((r) => r.path.includes(pathPart)),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
