// Test helper: realistic Darktrace model breaches (API/webhook shape) and their delivery through the real webhook route.
import { createHmac, randomInt } from 'node:crypto';
import { SOURCE_TOKEN } from './sheriff.js';

export interface BreachDevice {
  ip: string;
  hostname: string;
  did: number;
  mac: string;
}

export interface BreachInput {
  model: string;
  /** 0..1, as the model-breach shape carries it. */
  score: number;
  device: BreachDevice;
  peer?: { ip: string; port?: number; hostname?: string };
  /** Extra filters that triggered (e.g. a user agent); kept in raw, ignored by the normaliser. */
  extraFilters?: Array<{ filterType: string; value: string | number }>;
}

// pbids unique per run: the dedupe window would otherwise drop a second run's breaches on a shared Redis.
let nextPbid = randomInt(1_000_000, 900_000_000);

const filter = (id: string, filterType: string, value: string | number) => ({
  cfid: randomInt(10_000, 99_999), id, filterType, arguments: { value }, comparatorType: 'is', trigger: { value },
});

/** A model breach as Darktrace's API and webhook send it (the fields our normaliser reads plus the usual noise). */
export function modelBreach(b: BreachInput): Record<string, unknown> & { pbid: number } {
  const pbid = nextPbid++;
  const now = Date.now();
  const filters = [
    ...(b.peer ? [filter('A', 'Destination IP', b.peer.ip)] : []),
    ...(b.peer?.port !== undefined ? [filter('B', 'Destination port', b.peer.port)] : []),
    ...(b.peer?.hostname ? [filter('C', 'Connection hostname', b.peer.hostname)] : []),
    ...(b.extraFilters ?? []).map((f, i) => filter(String.fromCharCode(68 + i), f.filterType, f.value)),
  ];
  const model = {
    name: b.model, pid: randomInt(100, 9999), phid: randomInt(100, 9999), uuid: `00000000-0000-4000-8000-${String(pbid).padStart(12, '0')}`,
    tags: ['AP: Outlaw'], priority: 4, description: `e2e: ${b.model}`, behaviour: 'decreasing', active: true, version: 12,
  };
  return {
    creationTime: now,
    commentCount: 0,
    pbid,
    time: now - 1000,
    model: { then: model, now: model },
    triggeredComponents: [{
      time: now - 1000, cbid: randomInt(100, 9999), cid: randomInt(100, 9999), chid: randomInt(100, 9999), size: 1, threshold: 0, interval: 3600,
      logic: { data: { left: 'A', operator: 'AND', right: 'B' }, version: 'v0.1' },
      metric: { mlid: 7, name: 'connections', label: 'Connections' },
      triggeredFilters: filters,
    }],
    score: b.score,
    device: {
      did: b.device.did, macaddress: b.device.mac, vendor: '', ip: b.device.ip,
      ips: [{ ip: b.device.ip, timems: now - 86_400_000, time: new Date(now - 86_400_000).toISOString(), sid: 12 }],
      sid: 12, hostname: b.device.hostname, firstSeen: now - 30 * 86_400_000, lastSeen: now, typename: 'server', typelabel: 'Server',
    },
  };
}

/** `X-Sheriff-Signature: t=<unix>,v1=<hex>` over "<t>.<raw body>" (docs/ingest.md). */
export function signature(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

export interface Posted {
  status: number;
  ids: string[];
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
}

/** POSTs a breach to <baseUrl>/v1/alerts/darktrace over real HTTP (loopback), with the bearer token or an HMAC signature. */
export async function postBreach(baseUrl: string, breach: unknown, auth: { secret: string } | 'token'): Promise<Posted> {
  const body = JSON.stringify(breach);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth === 'token') headers.authorization = `Bearer ${SOURCE_TOKEN}`;
  else headers['x-sheriff-signature'] = signature(auth.secret, body);
  const res = await fetch(`${baseUrl}/v1/alerts/darktrace`, { method: 'POST', headers, body });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  return { status: res.status, ids: json?.ids ?? [], json };
}
